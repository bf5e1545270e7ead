#include "hwnas/cli/cli.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <algorithm>
#include <filesystem>
#include <new>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/logging.h"
#include "hwnas/core/threads.h"
#include "hwnas/data/registry.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/version.h"

namespace hwnas::cli {

std::unique_ptr<SearchSpace> SpaceArgs::make() const {
  if (config.empty()) return make_space(name);
  return make_space(name, parse_json_arg(config, "--space-config"));
}

void add_space_args(CLI::App& cmd, SpaceArgs& args) {
  cmd.add_option("--space,-s", args.name, "Search space (see `hwnas spaces`)")
      ->capture_default_str();
  cmd.add_option("--space-config", args.config,
                 "Space configuration as JSON, or @file.json (e.g. '{\"num_classes\": 100}')");
}

nlohmann::json DataSourceArgs::spec() const {
  auto c = config.empty() ? nlohmann::json::object() : parse_json_arg(config, "--data-config");
  HWNAS_CHECK_T(ConfigError, c.is_object(), "--data-config must be a JSON object, e.g. '{\"size\": 32}', not ", c.dump());
  // Datasets that cannot skip images refuse the key as unknown.
  if (skip_bad_images) c["skip_bad_images"] = true;
  return {{"name", name}, {"dir", dir}, {"config", c}};
}

void add_data_source_args(CLI::App& cmd, DataSourceArgs& args) {
  cmd.add_option("--data", args.name, "Dataset (see `hwnas datasets`): fashion-mnist, mnist, cifar10, cifar100, synthetic, ...")
      ->check([](const std::string& name) -> std::string {
        if (data::dataset_registry().contains(name)) return "";
        return fmt::format("unknown dataset '{}'; registered: {}", name, fmt::join(data::dataset_registry().names(), ", "));
      })
      ->capture_default_str();
  cmd.add_option("--data-dir", args.dir,
                 "The dataset's folder (fashion-mnist default: $HWNAS_FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist)");
  cmd.add_option("--data-config", args.config,
                 "The dataset's options as JSON or @file, e.g. cifar100: '{\"labels\": \"coarse\"}'");
  cmd.add_flag("--skip-bad-images", args.skip_bad_images,
               "image-folder: leave out images that cannot be decoded (their count goes into the summary) "
               "instead of stopping at the first");
}

void add_seed_option(CLI::App& cmd, uint64_t& seed, const std::string& help) {
  cmd.add_option("--seed", seed, help)
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            errno = 0;
            char* end = nullptr;
            const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
            std::strtoull(s.c_str(), &end, 10);
            if (!digits || errno == ERANGE || *end != '\0')
              return "the seed must be a whole number from 0 to 18446744073709551615, got '" + s + "'";
            return "";
          },
          "UINT64"));
}

void add_overwrite_flag(CLI::App& cmd, bool& overwrite) {
  cmd.add_flag("--overwrite", overwrite, "Replace existing outputs (without it an existing output is refused and kept)");
}

CLI::Validator finite_range(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0' || !std::isfinite(v)) return "'" + s + "' is not a finite number";
        if (v < lo || v > hi) return fmt::format("{} is not in [{}, {}]", s, lo, hi);
        return "";
      },
      fmt::format("FLOAT in [{} - {}]", lo, hi));
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"hwnas: hardware-aware neural architecture search on LibTorch", "hwnas"};
  app.set_version_flag("--version", std::string("hwnas ") + kVersion);
  app.require_subcommand(1);
  bool verbose = false, quiet = false;
  app.add_flag("--verbose,-v", verbose, "More log output (debug level)");
  app.add_flag("--quiet,-q", quiet, "Only warnings and errors in the log");
  int threads = 0;
  app.add_option("--threads", threads, "LibTorch intra-op threads (0: all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));

  Context ctx;
  ctx.out = &out;
  ctx.err = &err;
  add_space_commands(app, ctx);
  add_list_commands(app, ctx);
  add_cost_commands(app, ctx);
  add_estimate_commands(app, ctx);
  add_search_command(app, ctx);
  add_train_supernet_command(app, ctx);
  add_deploy_commands(app, ctx);
  add_quickstart_command(app, ctx);
  add_demo_command(app, ctx);

  // An unknown command gets a message naming the valid ones (CLI11 would only say that
  // a subcommand is required). The first word that is neither an option nor the value
  // of --threads is the command.
  auto first_word = args.begin();
  while (first_word != args.end() && !first_word->empty() && (*first_word)[0] == '-')
    first_word += (*first_word == "--threads" && first_word + 1 != args.end()) ? 2 : 1;
  std::string names;
  bool known = false;
  for (const auto* sub : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known = known || (first_word != args.end() && sub->get_name() == *first_word);
  }
  if (first_word != args.end() && !known) {
    err << "hwnas: error: unknown command '" << *first_word << "'; valid commands: " << names
        << " (run `hwnas --help` for usage)\n";
    return 2;
  }

  // CLI11 parses the arguments in reverse order of a vector.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // A subcommand's --help is reported as CallForHelp from the subcommand.
    if (e.get_exit_code() == 0) {
      for (auto* sub : app.get_subcommands()) out << sub->help();
      if (app.get_subcommands().empty()) out << app.help();
      return 0;
    }
    err << "hwnas: error: " << e.what() << " (run `hwnas --help` or `hwnas COMMAND --help` for usage)\n";
    return 2;
  }

  set_verbosity(quiet ? Verbosity::kQuiet : verbose ? Verbosity::kVerbose : Verbosity::kNormal);
  try {
    tune_allocator();
    set_threads(threads);
    if (ctx.action) ctx.action();
    return ctx.exit_code;
  } catch (const InternalError& e) {
    err << "hwnas: " << e.what() << "\n";
    return 3;
  } catch (const Error& e) {
    err << "hwnas: error: " << e.what() << "\n";
    return 2;
  } catch (const nlohmann::json::exception& e) {
    // A JSON input whose value has another type than the field needs (a number where a
    // name is expected, ...), caught where no reader checked it by field.
    std::string what = e.what();
    if (what.rfind("[json.exception.", 0) == 0) what = what.substr(what.find("] ") + 2);
    err << "hwnas: error: a JSON input has a value of the wrong type (" << what
        << "); check the types of the fields in the files and JSON options given\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be created or written (read-only, /proc, a file in the way).
    std::string what = e.what();  // "filesystem error: cannot create directories: Permission denied [/proc/x]"
    if (what.rfind("filesystem error: ", 0) == 0) what.erase(0, 18);
    err << "hwnas: error: " << what << "; check the path (a writable folder, not an existing file)\n";
    return 2;
  } catch (const std::bad_alloc&) {
    err << "hwnas: error: out of memory; lower the sizes asked for (batch size, dataset size, network width)\n";
    return 2;
  } catch (const c10::Error& e) {
    err << "hwnas: internal error from LibTorch (please report it with the command you ran): "
        << e.what_without_backtrace() << "\n";
    return 3;
  } catch (const std::exception& e) {
    err << "hwnas: internal error (please report it with the command you ran): " << e.what() << "\n";
    return 3;
  }
}

int run_main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(args, std::cout, std::cerr);
}

}  // namespace hwnas::cli

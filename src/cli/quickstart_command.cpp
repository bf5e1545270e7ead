// hwnas quickstart: the whole path in one command, every output in one run directory. Each
// step calls what its hwnas command runs, with typed arguments, and prints that command,
// which a user can type to do the step alone:
//   1. latency table of this CPU (profiled, or reused/completed from the run directory)
//   2. latency budget: a fraction of the largest arch's predicted latency
//   3. search: regularized evolution, accuracy from short training, under the budget
//   4. final training of the winner, and of the hand-designed cell of similar latency
//   5. export of the winner: TorchScript and ONNX with model.json
//   6. measured latency of both on this CPU, and the final table
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <ostream>

#include <nlohmann/json.hpp>

#include "cli/cost.h"
#include "cli/deploy.h"
#include "cli/interrupt.h"
#include "cli/search.h"
#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/core/run_directory.h"
#include "hwnas/core/json.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/data/registry.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::cli {
namespace {

namespace fs = std::filesystem;

struct QuickstartArgs {
  std::string out = "runs/quickstart";
  DataSourceArgs data;
  int64_t evaluations = 24, search_steps = 200, epochs = 5, train_size = 0;
  double budget = 0.5;
  uint64_t seed = 1;
  bool no_progress = false;
};

// The space: NAS-Bench-201's cell, small enough for a 2-core CPU; its input and classes
// follow the dataset.
const nlohmann::json kSpaceConfig = {{"channels", 8}, {"cells_per_stage", 1}};
const char* const kLargest = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";

// Hand-designed cells (NAS-Bench-201's ResNet cell and plain variants); the baseline is the
// one whose predicted latency is nearest the winner's.
const std::vector<std::pair<std::string, std::string>> kHandDesigned = {
    {"ResNet cell", "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"},
    {"ResNet cell, 1x1 first", "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"},
    {"plain 3x3 chain", "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|"},
    {"single 3x3 conv", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"},
    {"1x1 chain with skip", "|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"},
};

std::string quote(const std::string& s) { return s.find_first_of(" |{}\"'") == std::string::npos ? s : "'" + s + "'"; }

struct Interrupted {};

// One step: prints the hwnas command that does it (`args`), then runs it (`run_step`,
// the command's run function); throws Interrupted when Ctrl-C stopped it (its checkpoint
// stays for the next run). Errors propagate as the command's own.
void step(Context& ctx, const std::vector<std::string>& args, const std::function<void()>& run_step) {
  std::string line = "$ hwnas";
  for (const auto& a : args) line += " " + quote(a);
  *ctx.out << line << "\n" << std::flush;
  run_step();
  if (ctx.exit_code == 130) throw Interrupted{};
}

void run_steps(Context& ctx, const QuickstartArgs& a) {
  auto& o = *ctx.out;
  const fs::path out(a.out);
  // One quickstart per run directory at a time; a second run continues the first (each step resumes).
  const RunDirectory run_dir(out.string(), OutputMode::resume, {"quickstart", RunDirectory::has_any({"search.json"})});
  // The data: its shape and classes from a few samples, its sizes without loading it.
  // The folder is made absolute: the search config lives in the run folder, and relative
  // paths in a config are read from the config's folder.
  auto source = a.data.spec();
  if (!a.data.dir.empty()) source["dir"] = fs::absolute(a.data.dir).string();
  auto request = data::DataRequest().dir(source.at("dir").get<std::string>()).seed(a.seed).limit(16);
  const auto sample = data::load_dataset(a.data.name, source.at("config"), request);
  const auto train_count = data::count_samples(a.data.name, source.at("config"), request);
  request.train(false);
  const auto test_count = data::count_samples(a.data.name, source.at("config"), request);
  const int64_t valid_size = std::min<int64_t>(estimate::kDefaultValidSize, std::max<int64_t>(1, train_count / 6));
  const int64_t search_train_size = std::min<int64_t>(estimate::kDefaultTrainSize, train_count - valid_size);
  HWNAS_CHECK_T(ConfigError, search_train_size >= 1 && a.train_size <= train_count, "quickstart: dataset '",
                a.data.name, "' has ", train_count, " training samples; ",
                search_train_size < 1 ? "give a dataset of at least 2" : "give --train-size at most that (0: all)");
  auto space_json = kSpaceConfig;
  const auto shape = sample.sample_shape();
  space_json["input_channels"] = shape[0];
  space_json["input_size"] = shape[1];
  space_json["num_classes"] = sample.num_classes;
  const auto space_config = space_json.dump();
  const std::shared_ptr<const SearchSpace> space = make_space("nb201", space_json);
  std::vector<std::string> data{"--data", a.data.name};
  if (!request.dir().empty()) data.insert(data.end(), {"--data-dir", request.dir()});
  if (!source.at("config").empty()) data.insert(data.end(), {"--data-config", source.at("config").dump()});
  auto with_data = [&](std::vector<std::string> args) {
    args.insert(args.end(), data.begin(), data.end());
    if (a.no_progress) args.push_back("--no-progress");
    return args;
  };

  o << fmt::format("hwnas quickstart: hardware-aware search on {} ({} training, {} test samples, {}x{}x{}, {} classes) "
                   "for this CPU; everything goes to {}\n\n", a.data.name, train_count, test_count, shape[0], shape[1],
                   shape[2], sample.num_classes, out.string());
  // 1. Latency table.
  const auto table_path = (out / "cpu_table.json").string();
  o << "[1/6] latency table of this CPU (1 thread, batch 1)\n";
  // --resume: an interrupted table is completed, a finished one reused as it is.
  if (fs::exists(table_path)) o << fmt::format("reusing {} (delete it to profile again)\n", table_path);
  ProfileArgs profile;
  profile.space.config = space_config;
  profile.timing.threads = 1;
  profile.out = table_path;
  profile.resume = true;
  profile.no_progress = a.no_progress;
  std::vector<std::string> profile_command{"profile", "--space", "nb201", "--space-config", space_config, "--threads",
                                           "1", "--out", table_path, "--resume"};
  if (a.no_progress) profile_command.push_back("--no-progress");
  step(ctx, profile_command, [&] { run_profile(ctx, profile); });
  const auto table = std::make_shared<const cost::LatencyTable>(cost::LatencyTable::load(table_path));
  const cost::LatencyModel latency(table, space);

  // 2. Budget.
  const double largest = latency.predict(space->parse(kLargest));
  const double budget = a.budget * largest;
  o << fmt::format("\n[2/6] latency budget: {:.3f} ms = {} x the all-3x3-conv cell's predicted {:.3f} ms\n", budget,
                   a.budget, largest);

  // 3. Search.
  const auto search_dir = (out / "search").string();
  nlohmann::json experiment{
      {"space", {{"name", "nb201"}, {"config", space_json}}},
      {"strategy", {{"name", "evolution"}}},
      {"evaluator",
       {{"name", "short_training"},
        {"options", {{"steps", a.search_steps}, {"batch_size", 64}, {"lr", 0.05}, {"cosine", true}}},
        {"data", {{"name", a.data.name}, {"dir", request.dir()}, {"config", source.at("config")},
                  {"train_size", search_train_size}, {"valid_size", valid_size}}}}},
      {"latency_tables", {{"cpu", fs::absolute(table_path).string()}}},
      {"objectives", {{{"metric", "val_accuracy"}, {"goal", "max"}}}},
      {"constraints", {fmt::format("latency@cpu <= {:.4f} ms", budget)}},
      {"budget", {{"evaluations", a.evaluations}}},
      {"batch_size", 1},
      {"seed", a.seed},
      {"output", fs::absolute(search_dir).string()}};
  const auto experiment_path = (out / "search.json").string();
  write_file_atomic(experiment_path, experiment.dump(2) + "\n");
  o << fmt::format("\n[3/6] search: regularized evolution, {} archs each trained {} steps on {} samples and "
                   "validated on {}, latency <= {:.3f} ms\n", a.evaluations, a.search_steps, search_train_size,
                   valid_size, budget);
  SearchArgs search;
  search.config = experiment_path;
  search.resume = search.no_progress = true;
  step(ctx, {"search", "-c", experiment_path, "--resume", "--no-progress"}, [&] { run_search(ctx, search); });
  const auto best = read_json_file(search_dir + "/best.json", "search result");
  const auto winner = space->parse(best.at("arch").get<std::string>());

  // 4. Final training: the winner and the hand-designed cell of nearest latency.
  const double winner_ms = latency.predict(winner);
  auto gap = [&](const auto& h) { return std::abs(latency.predict(space->parse(h.second)) - winner_ms); };
  const auto& baseline = *std::min_element(kHandDesigned.begin(), kHandDesigned.end(),
                                           [&](const auto& x, const auto& y) { return gap(x) < gap(y); });
  o << fmt::format("\n[4/6] final training ({} epochs on {} samples, tested on all {}): the winner, then the "
                   "hand-designed baseline of nearest latency ({})\n", a.epochs,
                   a.train_size > 0 ? a.train_size : train_count, test_count, baseline.first);
  // The recipe and the data of both, as typed arguments and as the command's flags.
  TrainArgs recipe;
  recipe.data = a.data;
  recipe.data.dir = request.dir();
  recipe.data.config = source.at("config").empty() ? std::string() : source.at("config").dump();
  recipe.data.skip_bad_images = false;  // in the config already
  recipe.train_size = a.train_size;
  recipe.epochs = a.epochs;
  recipe.seed = a.seed;
  recipe.resume = true;
  recipe.no_progress = a.no_progress;
  const std::vector<std::string> recipe_flags{"--train-size", std::to_string(a.train_size), "--epochs",
                                              std::to_string(a.epochs), "--seed", std::to_string(a.seed), "--resume"};
  auto train_step = [&](std::vector<std::string> args, const TrainArgs& t) {
    args.insert(args.end(), recipe_flags.begin(), recipe_flags.end());
    step(ctx, with_data(args), [&] { run_train(ctx, t); });
  };
  auto winner_run = recipe;
  winner_run.from_search = search_dir;
  winner_run.out = (out / "winner").string();
  train_step({"train", "--from-search", search_dir, "--out", winner_run.out}, winner_run);
  auto baseline_run = recipe;
  baseline_run.space.config = space_config;
  baseline_run.arch = baseline.second;
  baseline_run.out = (out / "baseline").string();
  train_step({"train", "--space", "nb201", "--space-config", space_config, "--arch", baseline.second, "--out",
              baseline_run.out}, baseline_run);

  // 5. Export.
  o << "\n[5/6] export of the winner\n";
  if (fs::exists(out / "winner" / "export" / "model.json"))
    o << fmt::format("reusing {} (delete it to export again)\n", (out / "winner" / "export").string());
  else {
    ExportArgs exporting;
    exporting.run = (out / "winner").string();
    exporting.tables = {table_path};
    step(ctx, {"export", "--run", exporting.run, "--format", "torchscript,onnx", "--table", table_path},
         [&] { run_export(ctx, exporting); });
  }

  // 6. Measure and compare.
  o << "\n[6/6] whole networks timed on this CPU (1 thread, batch 1)\n";
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [label, dir, arch] : {std::tuple{std::string("winner (searched)"), out / "winner", winner},
                                         std::tuple{"baseline: " + baseline.first, out / "baseline",
                                                    space->parse(baseline.second)}}) {
    const auto summary = read_json_file((dir / "train.json").string(), "training summary");
    const auto measured = cost::measure_network(*space, arch, cost::ProfileOptions().threads(1));
    const auto cost = cost::network_cost(space->layers(arch));
    rows.push_back({{"model", label},
                    {"arch", arch.str()},
                    {"test_accuracy", summary.at("result").at("test_accuracy")},
                    {"latency_measured_ms", measured.median_ms},
                    {"latency_predicted_ms", latency.predict(arch)},
                    {"macs", cost.macs},
                    {"params", cost.params}});
  }
  std::string text = fmt::format("{:<36} {:>9} {:>13} {:>14} {:>10} {:>8}\n", "model", "test acc", "measured ms",
                                 "predicted ms", "MACs", "params");
  for (const auto& r : rows)
    text += fmt::format("{:<36} {:>9.4f} {:>13.3f} {:>14.3f} {:>10} {:>8}\n", r.at("model").get<std::string>(),
                        r.at("test_accuracy").get<double>(), r.at("latency_measured_ms").get<double>(),
                        r.at("latency_predicted_ms").get<double>(), json_integer<int64_t>(r.at("macs"), "macs"),
                        json_integer<int64_t>(r.at("params"), "params"));
  text += fmt::format("budget {:.3f} ms (predicted); winner {}\n", budget, winner.str());
  text += "predicted: the table's sum of per-layer timings, which need not add up to a whole network's "
          "(`hwnas calibrate --fit` fits the difference); measured: median of whole-network runs\n";
  write_file_atomic((out / "summary.txt").string(), text);
  write_file_atomic((out / "summary.json").string(),
                    nlohmann::json{{"budget_ms", budget}, {"models", rows}}.dump(2) + "\n");
  o << "\n" << text;
  o << fmt::format("\nrun directory {}: cpu_table.json, search.json, search/, winner/ (export/model.pt, "
                   "export/model.onnx, export/model.json), baseline/, summary.txt, summary.json\n", out.string());
}

void run_quickstart(Context& ctx, const QuickstartArgs& a) {
  SigintGuard guard;
  try {
    run_steps(ctx, a);
  } catch (const Interrupted&) {
    *ctx.out << "\nstopped by Ctrl-C; the same command continues where it stopped\n";
    ctx.exit_code = 130;
  }
}

}  // namespace

void add_quickstart_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<QuickstartArgs>();
  auto* cmd = app.add_subcommand("quickstart", "The whole path on a dataset (Fashion-MNIST by default) for this CPU: "
                                               "latency table, search under a latency budget, final training, export, "
                                               "comparison");
  cmd->add_option("--out,-o", a->out, "Run directory (a second run reuses what is finished)")->capture_default_str();
  add_data_source_args(*cmd, a->data);
  cmd->add_option("--evaluations,-n", a->evaluations, "Archs the search trains")->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--search-steps", a->search_steps, "Training steps per searched arch")->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--epochs", a->epochs, "Final-training epochs")->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  cmd->add_option("--train-size", a->train_size, "Final-training samples (0: the whole training part)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  cmd->add_option("--budget", a->budget, "Latency budget as a fraction of the all-3x3-conv cell's")
      ->capture_default_str()->check(finite_range(0.01, 1.0));
  add_seed_option(*cmd, a->seed, "Seed");
  cmd->add_flag("--no-progress", a->no_progress, "No progress bars");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_quickstart(ctx, *a); }; });
}

}  // namespace hwnas::cli

// hwnas spaces | sample | info
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <ostream>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "cli/context.h"
#include "hwnas/core/io.h"
#include "hwnas/core/error.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::cli {
namespace {

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (v < 0 ? "-" : "") + out;
}

nlohmann::json arch_summary(const SearchSpace& space, const Arch& arch) {
  auto cost = cost::network_cost(space.layers(arch));
  auto j = arch.to_json();
  j["params"] = cost.params;
  j["macs"] = cost.macs;
  return j;
}

void list_spaces(Context& ctx, bool json) {
  auto entries = space_registry().entries();
  nlohmann::json arr = nlohmann::json::array();
  if (!json) *ctx.out << fmt::format("{:<12} {:>16}  {}\n", "space", "architectures", "description");
  for (const auto& e : entries) {
    auto space = space_registry().create(e.name);
    if (json) {
      arr.push_back({{"name", e.name}, {"size", space->size()}, {"description", e.description},
                     {"choices", space->choices().size()}, {"config", space->config()}});
    } else {
      *ctx.out << fmt::format("{:<12} {:>16.6g}  {}\n", e.name, space->size(), e.description);
    }
  }
  if (json) *ctx.out << arr.dump(2) << "\n";
}

}  // namespace

void add_space_commands(CLI::App& app, Context& ctx) {
  // hwnas spaces
  {
    auto* cmd = app.add_subcommand("spaces", "List the registered search spaces and their sizes");
    auto json = std::make_shared<bool>(false);
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([&ctx, json] { ctx.action = [&ctx, json] { list_spaces(ctx, *json); }; });
  }
  // hwnas sample
  {
    auto* cmd = app.add_subcommand("sample", "Sample random architectures with their params and MACs");
    auto space = std::make_shared<SpaceArgs>();
    auto n = std::make_shared<int64_t>(5);
    auto seed = std::make_shared<uint64_t>(0);
    auto json = std::make_shared<bool>(false);
    add_space_args(*cmd, *space);
    cmd->add_option("-n,--num", *n, "How many")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
    add_seed_option(*cmd, *seed, "Random seed");
    cmd->add_flag("--json", *json, "One JSON object per line");
    cmd->callback([&ctx, space, n, seed, json] {
      ctx.action = [&ctx, space, n, seed, json] {
        auto s = space->make();
        Rng rng(*seed);
        if (!*json)
          *ctx.out << fmt::format("{:>12} {:>14}  {}\n", "params", "MACs", "arch");
        for (int64_t i = 0; i < *n; ++i) {
          auto arch = s->sample(rng);
          auto j = arch_summary(*s, arch);
          if (*json)
            *ctx.out << j.dump() << "\n";
          else
            *ctx.out << fmt::format("{:>12} {:>14}  {}\n", with_commas(j["params"]),
                                    with_commas(j["macs"]), arch.str());
        }
      };
    });
  }
  // hwnas info
  {
    auto* cmd = app.add_subcommand("info", "Params, MACs and the layer table of one architecture");
    auto space = std::make_shared<SpaceArgs>();
    auto arch_str = std::make_shared<std::string>();
    auto input = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    add_space_args(*cmd, *space);
    cmd->add_option("--arch,-a", *arch_str, "The architecture's canonical string")->required();
    cmd->add_option("--input", *input, "Input shape CxHxW (default: the arch's own, e.g. its resolution in ofa)");
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([&ctx, space, arch_str, input, json] {
      ctx.action = [&ctx, space, arch_str, input, json] {
        auto s = space->make();
        auto arch = s->parse(*arch_str);
        const Shape shape = input->empty() ? s->input_shape_of(arch) : Shape::parse(*input);
        auto layers = s->layers(arch, shape);
        auto cost = cost::network_cost(layers);
        if (*json) {
          auto j = arch.to_json();
          j["input"] = shape.str();
          j["params"] = cost.params;
          j["macs"] = cost.macs;
          j["layers"] = nlohmann::json::array();
          for (size_t i = 0; i < layers.size(); ++i)
            j["layers"].push_back({{"name", layers[i].name}, {"kind", layers[i].kind},
                                   {"key", layers[i].key()}, {"input", layers[i].input.str()},
                                   {"output", layers[i].output.str()},
                                   {"params", cost.layers[i].params}, {"macs", cost.layers[i].macs}});
          *ctx.out << j.dump(2) << "\n";
          return;
        }
        auto& o = *ctx.out;
        o << fmt::format("space   {}\narch    {}\ninput   {}\nparams  {}\nMACs    {}\n\n", s->name(),
                         arch.str(), shape.str(), with_commas(cost.params), with_commas(cost.macs));
        o << fmt::format("{:>4}  {:<28} {:<16} {:>11} {:>11} {:>10} {:>13}\n", "#", "layer", "kind",
                         "input", "output", "params", "MACs");
        for (size_t i = 0; i < layers.size(); ++i)
          o << fmt::format("{:>4}  {:<28} {:<16} {:>11} {:>11} {:>10} {:>13}\n", i, layers[i].name,
                           layers[i].kind, layers[i].input.str(), layers[i].output.str(),
                           with_commas(cost.layers[i].params), with_commas(cost.layers[i].macs));
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("draw", "Draw one architecture: its cells, its block chain or its choices "
                                           "(Graphviz DOT or JSON)");
    auto space = std::make_shared<SpaceArgs>();
    auto arch_str = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("dot");
    auto out = std::make_shared<std::string>();
    auto overwrite = std::make_shared<bool>(false);
    add_space_args(*cmd, *space);
    cmd->add_option("--arch,-a", *arch_str, "The architecture's canonical string")->required();
    cmd->add_option("--format,-f", *format, "dot (Graphviz: dot -Tsvg) or json")
        ->check(CLI::IsMember({"dot", "json"}))->capture_default_str();
    cmd->add_option("--out,-o", *out, "Write to this file (default: standard output)");
    add_overwrite_flag(*cmd, *overwrite);
    cmd->callback([&ctx, space, arch_str, format, out, overwrite] {
      ctx.action = [&ctx, space, arch_str, format, out, overwrite] {
        const auto s = space->make();
        const auto drawing = s->drawing(s->parse(*arch_str));
        const auto text = *format == "dot" ? drawing.to_dot() : drawing.to_json().dump(2) + "\n";
        if (out->empty()) {
          *ctx.out << text;
          return;
        }
        check_output_free(*out, *overwrite, "drawing");
        write_file_atomic(*out, text);
        *ctx.out << fmt::format("{} drawing of {} written to {}\n", drawing.kind, s->name(), *out);
      };
    });
  }
}

}  // namespace hwnas::cli

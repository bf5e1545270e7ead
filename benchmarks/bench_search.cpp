// Search strategies replaying a tabular benchmark (results in docs/benchmarks.md).
// The table: every one of NAS-Bench-201's 15,625 archs scored by a synthetic landscape
// with pairwise interactions (an NK-style function: a random value per (edge, op) plus a
// random value per (edge pair, op pair), seeded, so the table is the same on every
// machine). Random search and regularized evolution query it through TabularEvaluator
// with equal budgets, over many seeds; the summary gives mean and std of the best value
// found and of its regret to the table's optimum, and how often evolution wins.
// Usage: bench_search [--seeds 100] [--budget 150] [--table out.csv] [--json out.json]
#include <cstring>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/arch_table.h"
#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/estimate/evaluator.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/builtin.h"

namespace {

struct Stats {
  double mean = 0, std = 0;
};
Stats stats_of(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x / static_cast<double>(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean) / static_cast<double>(v.size());
  s.std = std::sqrt(s.std);
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  int seeds = 100, budget = 150;
  std::string table_path = "/tmp/hwnas_nb201_synthetic_table.csv", json_out;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seeds")) seeds = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--budget")) budget = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--table")) table_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--json")) json_out = argv[i + 1];
  }
  auto space = std::shared_ptr<const hwnas::SearchSpace>(hwnas::make_space("nb201"));
  // The landscape: unary terms u[e][op] ~ N(0, 1), pairwise terms p[e][f][op][op'] ~ N(0, 0.5).
  hwnas::Rng land(2026);
  double u[6][5], p[6][6][5][5];
  for (auto& e : u)
    for (auto& v : e) v = land.normal();
  for (auto& e : p)
    for (auto& f : e)
      for (auto& a : f)
        for (auto& v : a) v = 0.5 * land.normal();
  const auto archs = space->enumerate();
  std::vector<std::vector<double>> values;
  double optimum = -1e300;
  for (const auto& a : archs) {
    const auto& g = a.genes();
    double y = 0;
    for (int e = 0; e < 6; ++e) {
      y += u[e][g[e]];
      for (int f = e + 1; f < 6; ++f) y += p[e][f][g[e]][g[f]];
    }
    values.push_back({y});
    optimum = std::max(optimum, y);
  }
  hwnas::write_arch_table_csv(table_path, {"score"}, archs, values);
  hwnas::estimate::TabularEvaluator table(*space, table_path);
  std::cout << fmt::format("Table: {} archs of nb201, synthetic NK-style landscape (seed 2026), optimum {:.4f}; written to {}\n",
                           archs.size(), optimum, table_path);

  const std::vector<hwnas::strategy::Objective> objectives = {{"score", hwnas::strategy::Direction::kMaximize}};
  const std::vector<std::pair<std::string, nlohmann::json>> strategies = {
      {"random", nlohmann::json::object()},
      {"evolution", {{"population", 20}, {"sample_size", 5}}},
  };
  std::map<std::string, std::vector<double>> best;
  for (const auto& [name, config] : strategies) {
    for (int seed = 0; seed < seeds; ++seed) {
      auto s = hwnas::strategy::make_strategy(name, config);
      s->setup(space, objectives, static_cast<uint64_t>(seed));
      for (int q = 0; q < budget; ++q) {
        const auto a = s->ask(1);
        const auto m = table.evaluate(a);
        s->tell({{a[0], {m[0].at("score")}, 0}});
      }
      best[name].push_back(s->best().objectives[0]);
    }
  }
  int wins = 0, ties = 0;
  for (int s = 0; s < seeds; ++s) {
    wins += best["evolution"][static_cast<size_t>(s)] > best["random"][static_cast<size_t>(s)];
    ties += best["evolution"][static_cast<size_t>(s)] == best["random"][static_cast<size_t>(s)];
  }
  nlohmann::json out = {{"archs", archs.size()}, {"optimum", optimum}, {"seeds", seeds}, {"budget", budget},
                        {"queries", table.queries()}};
  std::cout << fmt::format("{} seeds, budget {} queries each ({} table queries in all)\n", seeds, budget, table.queries());
  std::cout << fmt::format("{:<10} {:>22} {:>22}\n", "strategy", "best found", "regret to optimum");
  for (const auto& [name, config] : strategies) {
    const auto b = stats_of(best[name]);
    std::vector<double> regret;
    for (double v : best[name]) regret.push_back(optimum - v);
    const auto r = stats_of(regret);
    std::cout << fmt::format("{:<10} {:>22} {:>22}\n", name, fmt::format("{:.4f} +- {:.4f}", b.mean, b.std),
                             fmt::format("{:.4f} +- {:.4f}", r.mean, r.std));
    out[name] = {{"config", config}, {"best_mean", b.mean}, {"best_std", b.std}, {"regret_mean", r.mean}, {"regret_std", r.std}};
  }
  std::cout << fmt::format("evolution better than random on {} of {} seeds (ties {})\n", wins, seeds, ties);
  out["evolution_wins"] = wins;
  out["ties"] = ties;
  if (!json_out.empty()) hwnas::write_file_atomic(json_out, out.dump(2) + "\n");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_search: " << e.what() << "\n";
  return 1;
}

// Learned whole-network latency on this machine (issue 20, part 2): can a model fitted on
// 200 whole-network measurements predict held-out archs better than a per-layer table?
//
//   bench_learned_latency --space nb201|proxyless --out DIR [--archs 300] [--threads 2] [--rounds 6]
//     profiles the space's table (DIR/table.json) and measures --archs distinct random archs
//     whole, batch 1, in --rounds rounds, each in a fresh random order (DIR/measurements.csv:
//     arch, latency_ms = median over the even rounds, repeat_ms = median over the odd ones);
//     repeat_ms against latency_ms is the noise ceiling. DIR/layers.jsonl lists each arch's layers with their table
//     latency, for trying models offline. Layers and networks: the median of timed runs.
//   bench_learned_latency --space S --from DIR [--fit 200] [--splits 10] [--json out.json]
//     fits each model on --fit archs and reports on the rest, over --splits random splits
//     (split s shuffles with seed s): mean share within +-10% and Kendall tau.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/calibration.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/estimate/learned_latency.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"

namespace {
using namespace hwnas;
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::shared_ptr<const SearchSpace> space_named(const std::string& which) {
  if (which == "nb201") return make_space("nb201");
  if (which == "proxyless") return make_space("mobilenet", {{"preset", "proxyless"}});
  throw std::runtime_error("--space must be nb201 or proxyless, but is '" + which + "'");
}

void measure(const std::string& which, const std::string& dir, int archs, int threads, int rounds) {
  if (rounds < 2 || rounds % 2) throw std::runtime_error(fmt::format("--rounds must be even and at least 2, but is {}", rounds));
  const auto space = space_named(which);
  if (std::filesystem::exists(dir + "/measurements.csv"))
    throw std::runtime_error(dir + "/measurements.csv already exists; remove it or give another --out");
  std::filesystem::create_directories(dir);
  const auto timing = cost::TimingOptions().warmup(5).min_runs(20).max_runs(2000).min_seconds(0.2);
  const auto opts = cost::ProfileOptions().threads(threads).batch(1).timing(timing);
  auto start = Clock::now();
  const auto table = std::make_shared<cost::LatencyTable>(cost::profile_space(*space, opts));
  table->save(dir + "/table.json");
  std::cout << fmt::format("{}: table of {} entries profiled in {:.0f}s\n", which, table->size(), seconds_since(start));
  Rng rng(2026);
  std::vector<Arch> picked;
  std::set<std::string> seen;
  for (int tries = 0; static_cast<int>(picked.size()) < archs && tries < 100 * archs; ++tries) {
    auto a = space->sample(rng);
    if (seen.insert(a.str()).second) picked.push_back(a);
  }
  // Rounds, each over all archs in a fresh order, so that the machine's drift over minutes
  // spreads over all archs; even rounds give latency_ms, odd rounds repeat_ms (medians).
  std::vector<std::vector<std::vector<double>>> by_half(2, std::vector<std::vector<double>>(picked.size()));
  std::vector<size_t> order(picked.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  start = Clock::now();
  // Each round times a network for at least 0.1 s: the rounds' median does the averaging.
  const auto whole = cost::ProfileOptions(opts).timing(cost::TimingOptions(timing).min_runs(10).min_seconds(0.1));
  for (int r = 0; r < rounds; ++r) {
    rng.shuffle(order);
    for (const size_t i : order) by_half[r % 2][i].push_back(cost::measure_network(*space, picked[i], whole).median_ms);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  std::vector<double> first(picked.size()), second(picked.size());
  for (size_t i = 0; i < picked.size(); ++i) first[i] = median(by_half[0][i]), second[i] = median(by_half[1][i]);
  std::cout << fmt::format("{} archs measured in {} rounds in {:.0f}s\n", picked.size(), rounds, seconds_since(start));
  std::string csv = "arch,latency_ms,repeat_ms\n", layers;
  const cost::LatencyModel model(table, space, cost::LatencyOptions().metric("median_ms"));
  for (size_t i = 0; i < picked.size(); ++i) {
    csv += fmt::format("\"{}\",{:.6f},{:.6f}\n", picked[i].str(), first[i], second[i]);
    nlohmann::json ls = nlohmann::json::array();
    for (const auto& l : space->layers(picked[i])) {
      const auto* e = table->find("", model.key(l));
      ls.push_back({l.kind, model.key(l), e ? e->extra.at("median_ms") : -1.0});
    }
    layers += nlohmann::json{{"arch", picked[i].str()}, {"layers", ls}}.dump() + "\n";
  }
  write_file_atomic(dir + "/measurements.csv", csv);
  write_file_atomic(dir + "/layers.jsonl", layers);
}

struct Score {
  double within10 = 0, tau = 0;
};

void evaluate(const std::string& which, const std::string& dir, size_t fit_n, int splits, const std::string& json_out) {
  const auto space = space_named(which);
  const auto table = std::make_shared<const cost::LatencyTable>(cost::LatencyTable::load(dir + "/table.json"));
  const auto ms = cost::read_measurements_csv(dir + "/measurements.csv", *space, "latency_ms");
  const auto repeats = cost::read_measurements_csv(dir + "/measurements.csv", *space, "repeat_ms");
  if (ms.size() <= fit_n) throw std::runtime_error(fmt::format("--fit {} needs more than {} measurements", fit_n, ms.size()));
  std::map<std::string, nlohmann::json> models = {{"gp x table", {{"name", "gp"}}}};
  if (which == "nb201") models["gcn x table"] = {{"name", "gcn"}, {"encoding", "graph"}};
  else models["mlp ensemble x table"] = {{"name", "ensemble"}, {"encoding", "stages+cost"}};
  std::map<std::string, std::vector<Score>> scores;
  const auto lopts = cost::LatencyOptions().metric("median_ms");
  for (int s = 0; s < splits; ++s) {
    std::vector<size_t> order(ms.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    Rng rng(static_cast<uint64_t>(s));
    rng.shuffle(order);
    std::vector<cost::Measurement> fit, held;
    std::vector<double> repeat_held;
    std::vector<Arch> held_archs;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i < fit_n) fit.push_back(ms[order[i]]);
      else held.push_back(ms[order[i]]), held_archs.push_back(ms[order[i]].arch), repeat_held.push_back(repeats[order[i]].ms);
    }
    auto add = [&](const std::string& name, const cost::CalibrationReport& r) {
      scores[name].push_back({r.within10, r.kendall_tau});
    };
    add("noise ceiling (repeat)", cost::evaluate_predictions(repeat_held, held));
    add("table", cost::evaluate_table(cost::LatencyModel(table, space, lopts), held));
    auto calibrated = std::make_shared<cost::LatencyTable>(*table);
    cost::fit_calibration(*calibrated, space, fit, 1e-3, lopts);
    const auto calibrated_model = std::make_shared<const cost::LatencyModel>(calibrated, space, lopts);
    add("calibrated table", cost::evaluate_table(*calibrated_model, held));
    for (const auto& [name, config] : models) {
      auto c = config;
      c.erase("name");
      estimate::LearnedLatencyModel learned(space, predictors::make_predictor(config["name"].get<std::string>(), c),
                                            calibrated_model);
      learned.fit(fit);
      add(name, cost::evaluate_predictions(learned.predict(held_archs), held));
    }
  }
  nlohmann::json out = nlohmann::json::object();
  std::cout << fmt::format("{}: {} archs, fit on {}, held out {}, {} splits (mean [min, max])\n", which, ms.size(), fit_n,
                           ms.size() - fit_n, splits);
  for (const auto& [name, v] : scores) {
    double w = 0, t = 0, wmin = 1, wmax = 0, tmin = 1, tmax = -1;
    for (const auto& x : v) {
      w += x.within10 / v.size(), t += x.tau / v.size();
      wmin = std::min(wmin, x.within10), wmax = std::max(wmax, x.within10);
      tmin = std::min(tmin, x.tau), tmax = std::max(tmax, x.tau);
    }
    std::cout << fmt::format("  {:<24} within10 {:5.1f}% [{:.0f}, {:.0f}]  tau {:.3f} [{:.3f}, {:.3f}]\n", name, 100 * w,
                             100 * wmin, 100 * wmax, t, tmin, tmax);
    out[name] = {{"within10", w}, {"kendall_tau", t}, {"within10_range", {wmin, wmax}}, {"tau_range", {tmin, tmax}}};
  }
  if (!json_out.empty()) write_file_atomic(json_out, out.dump(2) + "\n");
}
}  // namespace

int main(int argc, char** argv) try {
  std::string which = "nb201", out, from, json_out;
  int archs = 300, threads = 2, splits = 10, rounds = 6;
  size_t fit_n = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    auto number = [&] {
      size_t used = 0;
      int v = -1;
      try {
        v = std::stoi(value, &used);
      } catch (const std::exception&) {
      }
      if (used != value.size() || v < 1) throw std::runtime_error(flag + " must be a whole number >= 1, but is '" + value + "'");
      return v;
    };
    if (flag == "--space") which = value;
    else if (flag == "--out") out = value;
    else if (flag == "--from") from = value;
    else if (flag == "--json") json_out = value;
    else if (flag == "--archs") archs = number();
    else if (flag == "--threads") threads = number();
    else if (flag == "--rounds") rounds = number();
    else if (flag == "--splits") splits = number();
    else if (flag == "--fit") fit_n = static_cast<size_t>(number());
    else throw std::runtime_error("unknown flag " + flag);
  }
  if (!out.empty()) measure(which, out, archs, threads, rounds);
  else if (!from.empty()) evaluate(which, from, fit_n, splits, json_out);
  else throw std::runtime_error("give --out DIR (measure) or --from DIR (evaluate)");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_learned_latency: " << e.what() << "\n";
  return 2;
}

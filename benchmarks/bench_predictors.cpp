// Predictor and proxy benchmarks on this machine (results in docs/benchmarks.md):
//  1. quality: on a ground-truth table (arch, val_accuracy) made with `hwnas evaluate`, each
//     predictor's Kendall tau on held-out archs vs training-set size, mean and spread over
//     random splits; and each zero-cost proxy's rank correlation on the same archs (from a
//     table made with `hwnas proxies --archs <ground truth>`), #params beside them;
//  2. speed: predictions per second of each predictor on batches of 1 and 1000 OFA archs,
//     single thread, and fit time. The predictors are fitted on 500 OFA archs labelled by
//     Once-for-All's accuracy predictor (which is itself the MLP measured).
// Usage: bench_predictors --truth gt.csv [--proxies proxies.csv] [--space-config JSON]
//                         [--splits 10] [--encodings onehot,path,...] [--sizes 25,50,100]
//                         [--predictors ridge,gcn,#params,...] [--ofa-predictor acc_predictor.json]
//                         [--json out.json]
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/arch_table.h"
#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/stats.h"
#include "hwnas/core/threads.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/predictors/mlp/mlp.h"
#include "hwnas/search_spaces/registry.h"

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Default settings, one per built-in predictor, as a user would start.
const std::vector<std::pair<std::string, nlohmann::json>> kPredictors = {
    {"ridge", {{"alpha", 1.0}}},
    {"gp", nlohmann::json::object()},
    {"mlp", nlohmann::json::object()},
    {"xgboost", nlohmann::json::object()},
    {"ensemble", {{"predictor", "mlp"}, {"size", 5}}},
};
// Predictors of encodings with cell graphs only (quality rows; no graph for the OFA speed rows).
const std::vector<std::pair<std::string, nlohmann::json>> kGraphPredictors = {{"gcn", nlohmann::json::object()},
                                                                             {"gcn", {{"loss", "pairwise"}}}};
// Predictors of encodings that end with the cost features.
const std::vector<std::pair<std::string, nlohmann::json>> kCostPredictors = {{"residual", nlohmann::json::object()}};

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  for (size_t start = 0, comma; start <= list.size(); start = comma + 1) {
    comma = std::min(list.find(',', start), list.size());
    out.push_back(list.substr(start, comma - start));
  }
  return out;
}

template <typename T>
std::vector<T> pick(const std::vector<T>& v, const std::vector<size_t>& idx) {
  std::vector<T> out;
  for (auto i : idx) out.push_back(v[i]);
  return out;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double stdev(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size()));
}

}  // namespace

int main(int argc, char** argv) try {
  std::string truth, proxies, space_config = R"({"channels": 8, "cells_per_stage": 1, "input_channels": 1, "input_size": 28})",
                                  ofa_predictor = "data/ofa/acc_predictor.json", json_out;
  int splits = 10;
  std::vector<std::string> encodings{"onehot"}, only;
  std::vector<size_t> sizes{25, 50, 100};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--truth")) truth = argv[i + 1];
    else if (!std::strcmp(argv[i], "--proxies")) proxies = argv[i + 1];
    else if (!std::strcmp(argv[i], "--space-config")) space_config = argv[i + 1];
    else if (!std::strcmp(argv[i], "--splits")) splits = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--ofa-predictor")) ofa_predictor = argv[i + 1];
    else if (!std::strcmp(argv[i], "--json")) json_out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--encodings")) encodings = split_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--predictors")) only = split_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--sizes")) {
      sizes.clear();
      for (const auto& v : split_list(argv[i + 1])) sizes.push_back(std::stoul(v));
    }
  }
  hwnas::set_threads(1);
  nlohmann::json results;
  auto wanted = [&](const std::string& name) { return only.empty() || std::count(only.begin(), only.end(), name) > 0; };

  if (!truth.empty()) {
    auto space = hwnas::make_space("nb201", nlohmann::json::parse(space_config));
    const auto gt = hwnas::read_arch_table(truth, *space);
    const auto y = gt.column("val_accuracy");
    std::cout << fmt::format("Ground truth: {} archs of {} {} from {}\n", gt.size(), space->name(), space->config().dump(), truth);
    std::cout << fmt::format("val_accuracy: min {:.4f} mean {:.4f} max {:.4f}\n\n", *std::min_element(y.begin(), y.end()), mean(y),
                             *std::max_element(y.begin(), y.end()));
    // Held-out test set per split: the archs not among the first sizes.back() of a shuffle.
    if (sizes.back() >= gt.size()) throw std::runtime_error("--sizes: the largest size must leave test archs");
    const size_t n_test = gt.size() - sizes.back();
    std::cout << fmt::format("Kendall tau on {} held-out archs, mean +- std over {} random splits (fit time, s)\n", n_test, splits);
    std::cout << fmt::format("{:<26}", "predictor / encoding");
    for (auto s : sizes) std::cout << fmt::format(" {:>22}", fmt::format("n={}", s));
    std::cout << "\n";
    // The baseline on the same test sets: the number of parameters.
    std::vector<double> params;
    for (const auto& a : gt.archs) params.push_back(static_cast<double>(hwnas::cost::network_cost(space->layers(a)).params));
    std::vector<std::tuple<std::string, std::string, nlohmann::json>> rows;
    for (const auto& encoding : encodings) {
      auto list = kPredictors;
      if (encoding.find("graph") != std::string::npos) list.insert(list.end(), kGraphPredictors.begin(), kGraphPredictors.end());
      if (encoding.size() > 5 && encoding.compare(encoding.size() - 5, 5, "+cost") == 0)
        list.insert(list.end(), kCostPredictors.begin(), kCostPredictors.end());
      for (const auto& [name, config] : list) {
        if (!wanted(name)) continue;
        auto c = config;
        c["encoding"] = encoding;
        const auto label = config.contains("loss") ? name + " " + config["loss"].get<std::string>() : name;
        rows.emplace_back(encoding == "onehot" ? label : label + " / " + encoding, name, c);
      }
    }
    if (wanted("#params")) rows.emplace_back("#params", "", nlohmann::json());
    for (const auto& [label, name, config] : rows) {
      std::cout << fmt::format("{:<26}", label) << std::flush;
      for (auto size : sizes) {
        std::vector<double> taus, fit_s;
        for (int s = 0; s < splits; ++s) {
          std::vector<size_t> order(gt.size());
          for (size_t i = 0; i < order.size(); ++i) order[i] = i;
          hwnas::Rng rng(1000 + s);
          rng.shuffle(order);
          const std::vector<size_t> train(order.begin(), order.begin() + static_cast<long>(size));
          const std::vector<size_t> test(order.begin() + static_cast<long>(sizes.back()), order.end());
          if (name.empty()) {  // #params: nothing to fit
            fit_s.push_back(0);
            taus.push_back(hwnas::stats::kendall_tau(pick(params, test), pick(y, test)));
            continue;
          }
          auto p = hwnas::predictors::make_predictor(name, config);
          const auto t0 = Clock::now();
          p->fit(*space, pick(gt.archs, train), pick(y, train));
          fit_s.push_back(seconds_since(t0));
          taus.push_back(hwnas::stats::kendall_tau(p->predict(*space, pick(gt.archs, test)).mean, pick(y, test)));
        }
        std::cout << fmt::format(" {:>22}", fmt::format("{:.3f} +- {:.3f} ({:.2f})", mean(taus), stdev(taus), mean(fit_s))) << std::flush;
        results["quality"][label][std::to_string(size)] = {{"tau_mean", mean(taus)}, {"tau_std", stdev(taus)}, {"fit_s", mean(fit_s)}};
      }
      std::cout << "\n";
    }
    if (!proxies.empty()) {
      const auto pt = hwnas::read_arch_table(proxies, *space);
      std::map<std::string, size_t> row_of;
      for (size_t i = 0; i < pt.size(); ++i) row_of[pt.archs[i].str()] = i;
      std::cout << fmt::format("\nZero-cost proxies at initialisation vs val_accuracy, all {} archs\n", gt.size());
      std::cout << fmt::format("{:<10} {:>9} {:>9}\n", "proxy", "Kendall", "Spearman");
      for (size_t c = 0; c < pt.columns.size(); ++c) {
        std::vector<double> score, acc;
        for (size_t i = 0; i < gt.size(); ++i) {
          const auto it = row_of.find(gt.archs[i].str());
          if (it == row_of.end() || !std::isfinite(pt.values[it->second][c])) continue;
          score.push_back(pt.values[it->second][c]);
          acc.push_back(y[i]);
        }
        const double tau = hwnas::stats::kendall_tau(score, acc), rho = hwnas::stats::spearman(score, acc);
        std::cout << fmt::format("{:<10} {:>9.3f} {:>9.3f}{}\n", pt.columns[c], tau, rho,
                                 score.size() < gt.size() ? fmt::format("  ({} archs with a finite score)", score.size()) : "");
        results["proxies"][pt.columns[c]] = {{"kendall_tau", tau}, {"spearman", rho}, {"n", score.size()}};
      }
    }
  }

  // Speed on the OFA space.
  auto ofa = hwnas::make_space("ofa");
  auto oracle = hwnas::predictors::import_ofa_accuracy_predictor(ofa_predictor, *ofa);
  hwnas::Rng rng(7);
  std::vector<hwnas::Arch> train, batch;
  for (int i = 0; i < 500; ++i) train.push_back(ofa->sample(rng));
  for (int i = 0; i < 1000; ++i) batch.push_back(ofa->sample(rng));
  const auto labels = oracle->predict(*ofa, train).mean;
  std::cout << "\nSpeed, OFA space (128 features), 1 thread: predictions per second on batches of 1 and 1000 archs "
               "(encoding included), fit time on 500 archs\n";
  std::cout << fmt::format("{:<22} {:>12} {:>14} {:>9}\n", "predictor", "batch 1 /s", "batch 1000 /s", "fit s");
  auto time_predict = [&](const hwnas::predictors::Predictor& p, const std::vector<hwnas::Arch>& archs) {
    int reps = 0;
    const auto t0 = Clock::now();
    do {
      p.predict(*ofa, archs);
      ++reps;
    } while (seconds_since(t0) < 1.0);
    return static_cast<double>(reps) * static_cast<double>(archs.size()) / seconds_since(t0);
  };
  std::vector<std::pair<std::string, std::unique_ptr<hwnas::predictors::Predictor>>> fitted;
  fitted.emplace_back("mlp (OFA's, 400x3)", std::move(oracle));
  for (const auto& [name, config] : kPredictors) {
    if (!wanted(name)) continue;
    auto p = hwnas::predictors::make_predictor(name, config);
    const auto t0 = Clock::now();
    p->fit(*ofa, train, labels);
    const double fit = seconds_since(t0);
    results["speed"][name]["fit_s"] = fit;
    fitted.emplace_back(name, std::move(p));
  }
  for (auto& [name, p] : fitted) {
    const double one = time_predict(*p, {batch[0]}), many = time_predict(*p, batch);
    const std::string key = name.rfind("mlp (", 0) == 0 ? "ofa_mlp" : name;
    results["speed"][key]["batch1_per_s"] = one;
    results["speed"][key]["batch1000_per_s"] = many;
    std::cout << fmt::format("{:<22} {:>12.0f} {:>14.0f} {:>9}\n", name, one, many,
                             key == "ofa_mlp" ? "-" : fmt::format("{:.2f}", results["speed"][key]["fit_s"].get<double>()));
  }
  if (!json_out.empty()) hwnas::write_file_atomic(json_out, results.dump(2) + "\n");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_predictors: " << e.what() << "\n";
  return 1;
}

// Search throughput in the OFA space with OFA's Note10 latency table and OFA's accuracy
// predictor (batched): regularized evolution and NSGA-II, as a bare ask/tell loop and
// through the experiment runner (log written, checkpoint at the end), 1 and 2 threads.
// Also: the largest difference between hwnas's latency / accuracy and the values Once-for-
// All's own finder computed for the same archs (its output JSON, --peer), and the
// predictor's batched FLOP rate next to this machine's matrix-multiply FLOP rate.
//
//   bench_ofa_search --ofa data/ofa --peer ofa_finder.json [--threads 1] [--json out.json]
// docs/benchmarks.md has the peer's script (kept outside the project) and the results.
#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/threads.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/estimate/evaluator.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/predictors/mlp/mlp.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/strategy.h"

using namespace hwnas;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

const nlohmann::json kSpaceConfig = {{"width_mult", 1.2}, {"resolutions", {160, 176, 192, 208, 224}}};
constexpr double kTargetMs = 25;

// The ask/tell loop on its own: `candidates` archs in batches of 100; accuracy through the
// predictor evaluator, which does not predict an arch it has seen again.
double loop_rate(const std::string& name, const nlohmann::json& config, std::shared_ptr<const SearchSpace> space,
                 std::shared_ptr<const predictors::Predictor> predictor, const cost::LatencyModel& latency,
                 int64_t candidates, double* best_acc, int64_t* remembered) {
  estimate::PredictorEvaluator accuracy(space, std::move(predictor));
  auto s = strategy::make_strategy(name, config);
  s->setup(space, {{"imagenet_top1", strategy::Direction::kMaximize}, {"latency@note10", strategy::Direction::kMinimize}}, 0);
  const auto t0 = Clock::now();
  double t_ask = 0, t_acc = 0, t_lat = 0, t_tell = 0;
  for (int64_t done = 0; done < candidates; done += 100) {
    auto t = Clock::now();
    const auto archs = s->ask(100);
    t_ask += seconds_since(t);
    t = Clock::now();
    const auto acc = accuracy.evaluate(archs);
    t_acc += seconds_since(t);
    t = Clock::now();
    std::vector<strategy::Evaluation> evals;
    evals.reserve(archs.size());
    for (size_t i = 0; i < archs.size(); ++i) {
      const double ms = latency.predict(archs[i]);
      evals.push_back({archs[i], {acc[i].at("imagenet_top1"), ms}, std::max(0.0, ms - kTargetMs) / kTargetMs});
    }
    t_lat += seconds_since(t);
    t = Clock::now();
    s->tell(evals);
    t_tell += seconds_since(t);
  }
  const double secs = seconds_since(t0);
  const double us = 1e6 / static_cast<double>(candidates);
  std::cout << fmt::format("{:<9} per candidate: ask {:.2f} us, accuracy (encode + MLP) {:.2f} us, latency {:.2f} us, "
                           "tell {:.2f} us; {} of {} candidates seen before (not predicted again)\n",
                           name, t_ask * us, t_acc * us, t_lat * us, t_tell * us, accuracy.remembered(), candidates);
  *best_acc = s->best().objectives[0];
  *remembered = accuracy.remembered();
  return static_cast<double>(candidates) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ofa = "data/ofa", peer, json_out;
  int threads = 1;
  int64_t candidates = 50100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--ofa")) ofa = argv[i + 1];
    else if (!std::strcmp(argv[i], "--peer")) peer = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--candidates")) candidates = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--json")) json_out = argv[i + 1];
  }
  set_threads(threads);
  auto space = std::shared_ptr<const SearchSpace>(make_space("ofa", kSpaceConfig));
  auto table = std::make_shared<cost::LatencyTable>(cost::LatencyTable::from_ofa_yaml(ofa + "/note10_lut", "note10"));
  cost::LatencyModel latency(table, space);
  std::shared_ptr<predictors::Predictor> predictor = predictors::import_ofa_accuracy_predictor(ofa + "/acc_predictor.json", *space);
  nlohmann::json report = {{"threads", threads}, {"candidates", candidates}, {"torch_threads", hwnas::threads()}};

  // 1. The same archs, the same values as Once-for-All's finder.
  if (!peer.empty()) {
    const auto p = nlohmann::json::parse(read_file(peer, "peer output"));
    double max_lat = 0, max_acc = 0;
    std::vector<Arch> archs;
    for (const auto& a : p["archs"]) archs.push_back(space->from_json({{"ks", a["ks"]}, {"e", a["e"]}, {"d", a["d"]}, {"r", a["r"]}}));
    const auto acc = predictor->predict(*space, archs).mean;
    for (size_t i = 0; i < archs.size(); ++i) {
      max_lat = std::max(max_lat, std::abs(latency.predict(archs[i]) - p["archs"][i]["latency_ms"].get<double>()));
      max_acc = std::max(max_acc, std::abs(acc[i] - p["archs"][i]["acc"].get<double>()));
    }
    const double peer_rate = p["predicted"].get<double>() / p["search_s"].get<double>();
    report["peer"] = {{"candidates_per_s", peer_rate}, {"search_s", p["search_s"]}, {"predicted", p["predicted"]},
                      {"latency_queries", p["latency_queries"]}, {"threads", p["threads"]}};
    report["same_values"] = {{"archs", archs.size()}, {"max_abs_latency_ms", max_lat}, {"max_abs_accuracy", max_acc}};
    std::cout << fmt::format("same archs as the OFA finder ({}): max |latency difference| {:.3g} ms, max |accuracy difference| {:.3g}\n",
                             archs.size(), max_lat, max_acc);
    std::cout << fmt::format("OFA finder ({} thread(s)): {:.0f} candidates/s ({} in {:.2f} s)\n", p["threads"].get<int>(),
                             peer_rate, p["predicted"].get<int64_t>(), p["search_s"].get<double>());
  }

  // 2. Throughput: the bare loop and the experiment runner.
  const auto dir = std::filesystem::temp_directory_path() / "hwnas_bench_ofa_search";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  table->save((dir / "note10.json").string());
  predictor->save((dir / "acc.json").string());
  for (const auto& [name, config] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"evolution", {{"population", 100}, {"sample_size", 25}}}, {"nsga2", {{"population", 100}}}}) {
    double best = 0;
    int64_t remembered = 0;
    const double rate = loop_rate(name, config, space, predictor, latency, candidates, &best, &remembered);
    auto c = experiment::ExperimentConfig()
                 .space("ofa")
                 .space_config(kSpaceConfig)
                 .strategy(name)
                 .strategy_config(config)
                 .evaluator({{"name", "predictor"}, {"predictor", (dir / "acc.json").string()}})
                 .latency_tables({{"note10", (dir / "note10.json").string()}})
                 .objectives({{"imagenet_top1", strategy::Direction::kMaximize}, {"latency@note10", strategy::Direction::kMinimize}})
                 .constraints({fmt::format("latency@note10 <= {} ms", kTargetMs)})
                 .budget(experiment::Budget().evaluations(candidates))
                 .batch_size(100)
                 .threads(threads)
                 .checkpoint_every(1000000000)
                 .output((dir / name).string());
    experiment::Experiment exp(c);
    const auto t0 = Clock::now();
    const auto r = exp.run();
    const double runner_rate = static_cast<double>(r.evaluations) / seconds_since(t0);
    report[name] = {{"loop_candidates_per_s", rate}, {"loop_best_acc", best}, {"loop_seen_before", remembered},
                    {"runner_candidates_per_s", runner_rate},
                    {"runner_best_acc", r.best->objectives[0]}, {"runner_best_latency_ms", r.best->objectives[1]}};
    std::cout << fmt::format("{:<9} ask/tell loop {:>8.0f} candidates/s (best {:.4f}); hwnas search runner {:>8.0f} candidates/s "
                             "(best {:.4f} at {:.2f} ms)\n", name, rate, best, runner_rate, r.best->objectives[0], r.best->objectives[1]);
    if (report.contains("peer"))
      std::cout << fmt::format("          ratio to the OFA finder: loop {:.1f}x, runner {:.1f}x\n",
                               rate / report["peer"]["candidates_per_s"].get<double>(),
                               runner_rate / report["peer"]["candidates_per_s"].get<double>());
  }

  // 3. FLOP rates: a 1024x1024 matrix product, and the predictor on 10,000 encoded archs.
  {
    torch::NoGradGuard no_grad;
    auto a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
    torch::mm(a, b);
    int reps = 0;
    const auto t0 = Clock::now();
    while (seconds_since(t0) < 2.0 || reps < 5) {
      torch::mm(a, b);
      ++reps;
    }
    const double mm_gflops = 2.0 * 1024 * 1024 * 1024 * reps / seconds_since(t0) / 1e9;
    Rng rng(0);
    std::vector<Arch> archs;
    for (int i = 0; i < 10000; ++i) archs.push_back(space->sample(rng));
    const auto x = predictors::encode_archs(*space, archs);
    predictor->predict(x);
    reps = 0;
    const auto t1 = Clock::now();
    while (seconds_since(t1) < 2.0 || reps < 5) {
      predictor->predict(x);
      ++reps;
    }
    // MLP 128 -> 400 -> 400 -> 400 -> 1: 2 * (128*400 + 400*400 + 400*400 + 400) flops per arch.
    const double flops_per_arch = 2.0 * (128 * 400 + 400 * 400 + 400 * 400 + 400);
    const double pred_gflops = flops_per_arch * 10000.0 * reps / seconds_since(t1) / 1e9;
    report["flops"] = {{"matmul_1024_gflops", mm_gflops}, {"predictor_batch10000_gflops", pred_gflops},
                       {"fraction", pred_gflops / mm_gflops}};
    std::cout << fmt::format("matrix multiply 1024x1024: {:.1f} GFLOP/s; predictor on 10,000 archs: {:.1f} GFLOP/s ({:.0f}% of it)\n",
                             mm_gflops, pred_gflops, 100 * pred_gflops / mm_gflops);
    // The bound: every candidate's predictor FLOPs at this run's matrix-multiply rate.
    const double bound = mm_gflops * 1e9 / flops_per_arch;
    report["flops"]["bound_candidates_per_s"] = bound;
    for (const char* name : {"evolution", "nsga2"}) {
      const double loop = report[name]["loop_candidates_per_s"].get<double>() / bound;
      const double runner = report[name]["runner_candidates_per_s"].get<double>() / bound;
      report[name]["loop_fraction_of_bound"] = loop;
      report[name]["runner_fraction_of_bound"] = runner;
      std::cout << fmt::format("{:<9} of the bound ({:.0f} candidates/s): loop {:.2f}, runner {:.2f}\n", name, bound, loop, runner);
    }
  }
  if (!json_out.empty()) write_file_atomic(json_out, report.dump(2) + "\n");
  return 0;
}

// A search strategy written outside the library: simulated annealing, which no built-in
// does (a walk from one arch to its mutations, accepting a worse one with probability
// exp(-relative loss / temperature), the temperature cooling geometrically). It registers
// by name, so experiment configs and `hwnas search` name it like a built-in, and its
// state() makes an interrupted search resume exactly.
//
// The program searches nb201 for the most MACs under a parameter limit, once straight and
// once stopped halfway and resumed, and exits 1 unless both logs hold the same archs in
// the same order and the best meets the limit.
//
//   ./custom_strategy [--out DIR]                 # default anneal_search
//   ./custom_strategy search -c experiment.json   # with "strategy": {"name": "annealing"}
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/config.h"
#include "hwnas/core/search_space.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/strategy/strategy.h"

namespace {

class Annealing : public hwnas::strategy::Strategy {
 public:
  explicit Annealing(const nlohmann::json& config) {
    hwnas::ConfigReader r(config, "annealing strategy config");
    start_ = r.get_double("temperature", 0.1, 1e-9, 1e9);
    cooling_ = r.get_double("cooling", 0.98, 1e-6, 1.0);
    r.finish();  // unknown keys are errors
    temperature_ = start_;
  }
  std::string name() const override { return "annealing"; }
  nlohmann::json config() const override { return {{"temperature", start_}, {"cooling", cooling_}}; }

 protected:
  std::vector<hwnas::Arch> do_ask(int64_t n) override {
    std::vector<hwnas::Arch> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(current_.empty() ? space().sample(rng()) : space().mutate(space().parse(current_), rng()));
    return out;
  }
  void do_tell(const std::vector<hwnas::strategy::Evaluation>& evaluations) override {
    for (const auto& e : evaluations) {
      if (current_.empty() || better(e, now_) || rng().uniform() < std::exp(-loss(e) / temperature_)) {
        current_ = e.arch.str();
        now_ = e;
      }
      temperature_ *= cooling_;
    }
  }
  nlohmann::json do_state() const override {
    nlohmann::json j = {{"temperature", temperature_}, {"current", nullptr}};
    if (!current_.empty()) j["current"] = evaluation_to_json(now_);
    return j;
  }
  void do_load_state(const nlohmann::json& state) override {
    temperature_ = state.at("temperature").get<double>();
    current_.clear();
    if (!state.at("current").is_null()) {
      now_ = evaluation_from_json(state.at("current"));
      current_ = now_.arch.str();
    }
  }

 private:
  // How much worse `e` is than the current arch, relative: in the violation while either
  // is infeasible (never accepted from a feasible arch), else in the first objective.
  double loss(const hwnas::strategy::Evaluation& e) const {
    if (now_.violation == 0 && e.violation > 0) return INFINITY;
    if (e.violation > 0) return (e.violation - now_.violation) / std::max(now_.violation, 1e-12);
    return std::abs(e.objectives[0] - now_.objectives[0]) / std::max(std::abs(now_.objectives[0]), 1e-12);
  }

  double start_, cooling_, temperature_;
  std::string current_;  // empty before the first tell
  hwnas::strategy::Evaluation now_;
};

std::vector<std::string> archs_of(const std::string& log) {
  std::ifstream in(log);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line).at("arch"));
  return out;
}

hwnas::experiment::ExperimentConfig experiment(const std::string& out, int64_t evaluations) {
  hwnas::experiment::ExperimentConfig config;
  config.space("nb201")
      .space_config({{"channels", 8}, {"cells_per_stage", 1}})
      .strategy("annealing")
      .strategy_config({{"temperature", 0.2}, {"cooling", 0.97}})
      .cost_models(nlohmann::json::array({{{"name", "analytic"}}}))
      .objectives({{"macs", hwnas::strategy::Direction::kMaximize}})
      .constraints({"params <= 30000"})
      .budget(hwnas::experiment::Budget().evaluations(evaluations))
      .batch_size(4)
      .seed(3)
      .output(out);
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  hwnas::strategy::strategy_registry().add(
      "annealing", "Simulated annealing: mutations of one arch, worse ones accepted with exp(-loss/T)",
      [](const nlohmann::json& config) { return std::make_unique<Annealing>(config); });
  if (argc > 1 && std::string(argv[1]) != "--out") return hwnas::cli::run_main(argc, argv);  // the full CLI, with "annealing" in it

  const std::string out = argc > 2 ? argv[2] : "anneal_search";
  using hwnas::experiment::Experiment;
  using hwnas::experiment::RunOptions;
  const auto straight = Experiment(experiment(out + "/straight", 120)).run(RunOptions().overwrite(true));
  Experiment(experiment(out + "/resumed", 60)).run(RunOptions().overwrite(true));
  Experiment(experiment(out + "/resumed", 120)).run(RunOptions().resume(true));
  const auto a = archs_of(out + "/straight/log.jsonl"), b = archs_of(out + "/resumed/log.jsonl");
  const auto& best = *straight.best;
  std::cout << "annealing: best " << best.arch.str() << ", " << best.metrics.at("macs") << " MACs, "
            << best.metrics.at("params") << " params (limit 30000); " << a.size() << " evaluations, resumed run "
            << (a == b ? "identical" : "DIFFERENT") << "\n";
  return a.size() == 120 && a == b && best.feasible() ? 0 : 1;
}

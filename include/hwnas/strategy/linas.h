#pragma once
// LINAS, Lightweight Iterative NAS (Cummings et al., "A Hardware-Aware System for
// Accelerating Deep Neural Network Optimization", 2022; Intel's DyNAS-T): predictor-guided
// multi-objective search that spends few real evaluations.
//
//   1. `population` random archs are evaluated for real.
//   2. A round: one predictor per objective is fitted on every real evaluation so far (and
//      one on the constraint violation, once an infeasible arch was seen); an inner
//      NSGA-II searches `inner_evaluations` candidates on the predictions alone (by
//      default starting from the best real evaluations, see inner_start); the best
//      `population` archs of its final population (by front, then crowding) that were not
//      asked before are the next archs evaluated for real.
//   3. Repeat while the budget lasts.
//
// Registered as "linas"; ask/tell with an exact resume like the other strategies. A round
// starts when ask() finds no proposed arch left, with what has been told by then: ask for
// `population` archs at a time (an experiment's batch_size) and tell them before asking
// again, or a round is fitted on the same evaluations as the one before.
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/strategy/builtin.h"

namespace hwnas::strategy {

struct LinasOptions {
  /// Archs evaluated for real in the random start and in each round (DyNAS-T: 50; 25
  /// refits the predictors twice as often, which measured better: docs/benchmarks.md).
  HWNAS_ARG(int64_t, population) = 25;
  /// Candidates the inner NSGA-II predicts per round (DyNAS-T: 5,000 for OFA's spaces).
  HWNAS_ARG(int64_t, inner_evaluations) = 5000;
  /// The inner NSGA-II.
  HWNAS_ARG(Nsga2Options, inner) = Nsga2Options();
  /// Its first population: "front", the best real evaluations (by front, then crowding)
  /// with their predicted values, joined by random archs in its first generation; or
  /// "random", random archs only (DyNAS-T).
  HWNAS_ARG(std::string, inner_start) = "front";
  /// The predictor fitted per objective (a predictor registry name) and its options; the
  /// default is the ensemble's (5 MLPs). DyNAS-T fits ridge or an SVR.
  HWNAS_ARG(std::string, predictor) = "ensemble";
  HWNAS_ARG(nlohmann::json, predictor_config) = nlohmann::json::object();

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("population", self.population_, 1, 1000000);
    v.field("inner_evaluations", self.inner_evaluations_, 1, 100000000);
    v.nested("inner", self.inner_);
    v.field("inner_start", self.inner_start_, {"front", "random"});
    v.field("predictor", self.predictor_);
    v.object("predictor_config", self.predictor_config_);
  }
  /// The ranges above, inner_evaluations >= inner.population, and a predictor the
  /// registry can make from predictor_config; throws ConfigError naming the field.
  void validate() const;
  static LinasOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class Linas : public Strategy {
 public:
  explicit Linas(LinasOptions options);
  std::string name() const override { return "linas"; }
  nlohmann::json config() const override { return options_.to_json(); }
  /// Rounds run so far (predictors fitted, inner search done).
  int64_t rounds() const { return rounds_; }

 protected:
  std::vector<Arch> do_ask(int64_t n) override;
  void do_tell(const std::vector<Evaluation>&) override {}
  nlohmann::json do_state() const override;
  void do_load_state(const nlohmann::json& state) override;

 private:
  void run_round();
  Arch fresh_sample();
  void mark_asked(const Arch& arch);
  LinasOptions options_;
  std::vector<Arch> proposed_;  // the round's archs not yet asked, best first
  std::vector<std::string> asked_;
  std::unordered_set<std::string> seen_;
  int64_t asked_random_ = 0;
  int64_t rounds_ = 0;
};

}  // namespace hwnas::strategy

#pragma once
// The built-in discrete strategies. Each works on every space through its sample, mutate
// and crossover; registered as "random", "evolution" and "nsga2" (the RL controller,
// "rl", is in rl.h).
#include <deque>
#include <unordered_set>

#include "hwnas/core/options.h"
#include "hwnas/strategy/strategy.h"

namespace hwnas::strategy {

/// Random search: independent samples of the space (the baseline every NAS result must
/// beat). Archs already asked are not proposed again while the space has others: draws
/// are re-drawn while fewer than half the space was asked, then, in a space small enough
/// to enumerate (at most kEnumerateLimit archs), the next arch is drawn from those left.
class RandomSearch : public Strategy {
 public:
  static constexpr double kEnumerateLimit = 1e5;
  explicit RandomSearch(const nlohmann::json& config);
  std::string name() const override { return "random"; }
  nlohmann::json config() const override;

 protected:
  std::vector<Arch> do_ask(int64_t n) override;
  void do_tell(const std::vector<Evaluation>&) override {}
  nlohmann::json do_state() const override;
  void do_load_state(const nlohmann::json& state) override;

 private:
  std::vector<std::string> asked_;     // in order (the saved state)
  std::unordered_set<std::string> seen_;  // the same, for lookups
  std::vector<Arch> left_;  // archs not yet asked, in enumeration order (rebuilt on demand)
  bool left_built_ = false;
};

/// Regularized (aging) evolution, Real et al., AAAI 2019: a population of the `population`
/// most recent evaluations; each child mutates the best of `sample_size` members drawn at
/// random; the oldest member dies when a child joins. The first `population` archs are
/// random samples. Single objective: the first, feasible archs first (Deb's rules).
struct EvolutionOptions {
  HWNAS_ARG(int64_t, population) = 50;
  HWNAS_ARG(int64_t, sample_size) = 10;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("population", self.population_, 2, 1000000);
    v.field("sample_size", self.sample_size_, 1, 1000000);
  }
  /// The ranges above and sample_size <= population; throws ConfigError naming the field.
  void validate() const;
  static EvolutionOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class RegularizedEvolution : public Strategy {
 public:
  explicit RegularizedEvolution(EvolutionOptions options) : options_(options) { options_.validate(); }
  std::string name() const override { return "evolution"; }
  nlohmann::json config() const override { return options_.to_json(); }

 protected:
  std::vector<Arch> do_ask(int64_t n) override;
  void do_tell(const std::vector<Evaluation>& evaluations) override;
  nlohmann::json do_state() const override;
  void do_load_state(const nlohmann::json& state) override;

 private:
  EvolutionOptions options_;
  std::deque<Evaluation> population_;  // oldest first
  int64_t asked_random_ = 0;           // random archs handed out while filling the population
};

/// NSGA-II, Deb et al. 2002: non-dominated sorting with crowding distance, constraint
/// domination, binary tournaments, crossover and mutation from the space. Generational:
/// ask() hands out offspring of the current population; once `population` offspring are
/// told, parents and offspring are merged and the best `population` survive.
struct Nsga2Options {
  HWNAS_ARG(int64_t, population) = 50;
  HWNAS_ARG(double, crossover_prob) = 0.9;
  /// Mutations applied to each child (the space's mutate changes one choice).
  HWNAS_ARG(int64_t, mutations) = 1;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("population", self.population_, 2, 1000000);
    v.field("crossover_prob", self.crossover_prob_, 0.0, 1.0);
    v.field("mutations", self.mutations_, 0, 1000);
  }
  /// The ranges above; throws ConfigError naming the field.
  void validate() const;
  static Nsga2Options from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class Nsga2 : public Strategy {
 public:
  explicit Nsga2(Nsga2Options options) : options_(options) { options_.validate(); }
  std::string name() const override { return "nsga2"; }
  nlohmann::json config() const override { return options_.to_json(); }
  /// The current population (survivors of the last generation).
  const std::vector<Evaluation>& population() const { return population_; }

  /// Front index (0 = non-dominated) of each evaluation, by fast non-dominated sorting.
  static std::vector<int> non_dominated_ranks(const std::vector<Evaluation>& evals, const std::vector<Objective>& objectives);
  /// Crowding distance of each evaluation within its front (infinite at the extremes).
  static std::vector<double> crowding_distances(const std::vector<Evaluation>& evals, const std::vector<int>& ranks,
                                                const std::vector<Objective>& objectives);
  /// Indices of the evaluations best first: by front, then larger crowding distance (ties
  /// keep input order); what survives a generation.
  static std::vector<size_t> best_first(const std::vector<Evaluation>& evals, const std::vector<Objective>& objectives);
  /// The same with their non_dominated_ranks() already computed.
  static std::vector<size_t> best_first(const std::vector<Evaluation>& evals, const std::vector<int>& ranks,
                                        const std::vector<Objective>& objectives);

 protected:
  std::vector<Arch> do_ask(int64_t n) override;
  void do_tell(const std::vector<Evaluation>& evaluations) override;
  nlohmann::json do_state() const override;
  void do_load_state(const nlohmann::json& state) override;

 private:
  void survive();
  Nsga2Options options_;
  std::vector<Evaluation> population_, offspring_;
  std::vector<int> rank_;
  std::vector<double> crowding_;
  int64_t asked_random_ = 0;
};

void register_builtin_strategies(StrategyRegistry& registry);

}  // namespace hwnas::strategy

#pragma once
// Strategy: a search algorithm behind an ask/tell interface. ask(n) proposes archs,
// tell(evaluations) returns their objective values; state()/load_state() capture
// everything (including the random generator) so that a resumed search continues exactly
// as an uninterrupted one would. Strategies see objectives already oriented by the
// Objective list and a constraint violation (0 = feasible); the experiment runner (or your
// own loop) computes both from evaluator metrics and cost models.
//
// A search in a few lines (see docs/search.md):
//   auto s = hwnas::strategy::make_strategy("evolution", {{"population", 50}});
//   s->setup(space, {{"val_accuracy", Direction::kMaximize}}, /*seed=*/0);
//   for (int i = 0; i < 100; ++i) {
//     auto archs = s->ask(1);
//     s->tell({{archs[0], {my_accuracy(archs[0])}}});
//   }
//   auto best = s->best();
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/core/arch.h"
#include "hwnas/core/random.h"
#include "hwnas/core/registry.h"

namespace hwnas {
class SearchSpace;
}

namespace hwnas::strategy {

enum class Direction { kMinimize, kMaximize };

/// One objective: a metric name and whether smaller or larger is better.
struct Objective {
  std::string name;
  Direction direction = Direction::kMaximize;
};

/// An evaluated arch: one value per objective (in the order of the strategy's objectives)
/// and its total constraint violation (0 when it meets every constraint).
struct Evaluation {
  Arch arch;
  std::vector<double> objectives;
  double violation = 0;
};

/// True if `a` is better than or equal to `b` in every objective and better in one, with
/// constraint domination (Deb 2000): a feasible arch dominates an infeasible one, and of
/// two infeasible ones the smaller violation dominates.
bool dominates(const Evaluation& a, const Evaluation& b, const std::vector<Objective>& objectives);
/// Both directions of dominates() in one pass: 1 if `a` dominates `b`, -1 if `b` dominates `a`,
/// 0 if neither does.
int dominance(const Evaluation& a, const Evaluation& b, const std::vector<Objective>& objectives);

/// The single-objective order of evolution and of a run's best: the smaller violation
/// first (feasible before infeasible), then the better first objective in `direction`.
/// True if (violation_a, first_a) ranks strictly before (violation_b, first_b).
bool ranks_before(double violation_a, double first_a, double violation_b, double first_b, Direction direction);

/// The evaluations not dominated by any other (first front), in input order.
std::vector<Evaluation> pareto_front(const std::vector<Evaluation>& evaluations,
                                     const std::vector<Objective>& objectives);

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  /// The options it was made with (what the registry factory reads back).
  virtual nlohmann::json config() const = 0;

  /// Binds the strategy to a space, objectives and seed; call once before ask.
  void setup(std::shared_ptr<const SearchSpace> space, std::vector<Objective> objectives, uint64_t seed);
  /// Proposes up to n archs (n >= 1).
  std::vector<Arch> ask(int64_t n);
  /// Results of asked archs (any order, any subset of those asked).
  void tell(const std::vector<Evaluation>& evaluations);

  /// Every evaluation told so far.
  const std::vector<Evaluation>& history() const { return history_; }
  /// The best evaluation: feasible first, then by the first objective.
  Evaluation best() const;
  /// The non-dominated evaluations among the history.
  std::vector<Evaluation> front() const { return pareto_front(history_, objectives_); }

  /// Complete state as JSON (strategy-specific part, history, random generator).
  nlohmann::json state() const;
  /// Restores a state written by state() for the same space, objectives and config;
  /// throws ConfigError describing a mismatch.
  void load_state(const nlohmann::json& state);

  const SearchSpace& space() const { return *space_; }
  const std::vector<Objective>& objectives() const { return objectives_; }

 protected:
  virtual std::vector<Arch> do_ask(int64_t n) = 0;
  virtual void do_tell(const std::vector<Evaluation>& evaluations) = 0;
  virtual nlohmann::json do_state() const = 0;
  virtual void do_load_state(const nlohmann::json& state) = 0;
  /// The single-objective order used by evolution: feasible first (smaller violation),
  /// then the first objective in its direction. True if a is better than b.
  bool better(const Evaluation& a, const Evaluation& b) const;
  Rng& rng() { return rng_; }
  nlohmann::json evaluation_to_json(const Evaluation& e) const;
  Evaluation evaluation_from_json(const nlohmann::json& j) const;

 private:
  std::shared_ptr<const SearchSpace> space_;
  std::vector<Objective> objectives_;
  Rng rng_;
  std::vector<Evaluation> history_;
  uint64_t seed_ = 0;
};

using StrategyRegistry = Registry<Strategy>;
/// The strategy registry with the built-ins (random, evolution, nsga2, rl).
StrategyRegistry& strategy_registry();
std::unique_ptr<Strategy> make_strategy(const std::string& name);
std::unique_ptr<Strategy> make_strategy(const std::string& name, const nlohmann::json& config);

}  // namespace hwnas::strategy

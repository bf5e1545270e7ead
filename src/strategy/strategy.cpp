#include "hwnas/strategy/strategy.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"

namespace hwnas::strategy {
namespace {

// a's value is at least as good as b's for this objective.
bool no_worse(double a, double b, Direction d) { return d == Direction::kMaximize ? a >= b : a <= b; }
bool strictly_better(double a, double b, Direction d) { return d == Direction::kMaximize ? a > b : a < b; }

}  // namespace

bool dominates(const Evaluation& a, const Evaluation& b, const std::vector<Objective>& objectives) {
  if (a.violation > 0 || b.violation > 0) {
    if (a.violation == 0) return true;         // feasible beats infeasible
    if (b.violation == 0) return false;
    return a.violation < b.violation;          // less infeasible
  }
  bool better_somewhere = false;
  for (size_t i = 0; i < objectives.size(); ++i) {
    if (!no_worse(a.objectives[i], b.objectives[i], objectives[i].direction)) return false;
    better_somewhere = better_somewhere || strictly_better(a.objectives[i], b.objectives[i], objectives[i].direction);
  }
  return better_somewhere;
}

int dominance(const Evaluation& a, const Evaluation& b, const std::vector<Objective>& objectives) {
  if (a.violation > 0 || b.violation > 0) return dominates(a, b, objectives) ? 1 : dominates(b, a, objectives) ? -1 : 0;
  bool a_no_worse = true, b_no_worse = true, a_better = false, b_better = false;
  for (size_t i = 0; i < objectives.size() && (a_no_worse || b_no_worse); ++i) {
    const double x = a.objectives[i], y = b.objectives[i];
    const auto d = objectives[i].direction;
    a_no_worse = a_no_worse && no_worse(x, y, d);
    b_no_worse = b_no_worse && no_worse(y, x, d);
    a_better = a_better || strictly_better(x, y, d);
    b_better = b_better || strictly_better(y, x, d);
  }
  if (a_no_worse && a_better) return 1;
  if (b_no_worse && b_better) return -1;
  return 0;
}

std::vector<Evaluation> pareto_front(const std::vector<Evaluation>& evals, const std::vector<Objective>& objectives) {
  std::vector<Evaluation> front;
  for (size_t i = 0; i < evals.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < evals.size() && !dominated; ++j) dominated = j != i && dominates(evals[j], evals[i], objectives);
    if (!dominated) front.push_back(evals[i]);
  }
  return front;
}

void Strategy::setup(std::shared_ptr<const SearchSpace> space, std::vector<Objective> objectives, uint64_t seed) {
  HWNAS_CHECK_T(ConfigError, space != nullptr, "Strategy '", name(), "': no search space");
  HWNAS_CHECK_T(ConfigError, !objectives.empty(), "Strategy '", name(), "': give at least one objective");
  space_ = std::move(space);
  objectives_ = std::move(objectives);
  seed_ = seed;
  rng_ = Rng(seed);
  history_.clear();
}

std::vector<Arch> Strategy::ask(int64_t n) {
  HWNAS_CHECK_T(ConfigError, space_ != nullptr, "Strategy '", name(), "': call setup() before ask()");
  HWNAS_CHECK_T(ConfigError, n >= 1, "Strategy '", name(), "': ask(n) needs n >= 1, got ", n);
  return do_ask(n);
}

void Strategy::tell(const std::vector<Evaluation>& evals) {
  HWNAS_CHECK_T(ConfigError, space_ != nullptr, "Strategy '", name(), "': call setup() before tell()");
  for (const auto& e : evals) {
    HWNAS_CHECK_T(ConfigError, e.objectives.size() == objectives_.size(), "Strategy '", name(), "': an evaluation of ",
                  e.arch.str(), " has ", e.objectives.size(), " objective values, expected ", objectives_.size());
    HWNAS_CHECK_T(ConfigError, e.violation >= 0 && std::isfinite(e.violation), "Strategy '", name(),
                  "': constraint violation must be finite and >= 0, got ", e.violation);
    for (size_t i = 0; i < e.objectives.size(); ++i)
      HWNAS_CHECK_T(DataError, std::isfinite(e.objectives[i]), "Strategy '", name(), "': objective '",
                    objectives_[i].name, "' of ", e.arch.str(), " is ", e.objectives[i]);
    space_->validate(e.arch);
  }
  history_.insert(history_.end(), evals.begin(), evals.end());
  do_tell(evals);
}

bool ranks_before(double violation_a, double first_a, double violation_b, double first_b, Direction direction) {
  if (violation_a != violation_b) return violation_a < violation_b;
  return strictly_better(first_a, first_b, direction);
}

bool Strategy::better(const Evaluation& a, const Evaluation& b) const {
  return ranks_before(a.violation, a.objectives[0], b.violation, b.objectives[0], objectives_[0].direction);
}

Evaluation Strategy::best() const {
  HWNAS_CHECK_T(ConfigError, !history_.empty(), "Strategy '", name(), "': nothing evaluated yet");
  const Evaluation* best = &history_.front();
  for (const auto& e : history_)
    if (better(e, *best)) best = &e;
  return *best;
}

nlohmann::json Strategy::evaluation_to_json(const Evaluation& e) const {
  return {{"arch", e.arch.str()}, {"objectives", e.objectives}, {"violation", e.violation}};
}

Evaluation Strategy::evaluation_from_json(const nlohmann::json& j) const {
  Evaluation e;
  e.arch = space_->parse(j.at("arch").get<std::string>());
  e.objectives = j.at("objectives").get<std::vector<double>>();
  e.violation = j.at("violation").get<double>();
  HWNAS_CHECK_T(DataError, e.objectives.size() == objectives_.size(), "strategy state: an evaluation has ",
                e.objectives.size(), " objective values, expected ", objectives_.size());
  return e;
}

nlohmann::json Strategy::state() const {
  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& o : objectives_)
    objectives.push_back({{"name", o.name}, {"direction", o.direction == Direction::kMaximize ? "max" : "min"}});
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : history_) history.push_back(evaluation_to_json(e));
  return {{"strategy", name()}, {"config", config()}, {"space", space_->name()}, {"space_config", space_->config()},
          {"objectives", objectives}, {"seed", seed_}, {"rng", rng_.state()}, {"history", history},
          {"internal", do_state()}};
}

void Strategy::load_state(const nlohmann::json& s) {
  HWNAS_CHECK_T(ConfigError, space_ != nullptr, "Strategy '", name(), "': call setup() before load_state()");
  try {
    const auto mine = state();
    for (const char* key : {"strategy", "config", "space", "space_config", "objectives", "seed"})
      HWNAS_CHECK_T(ConfigError, s.at(key) == mine.at(key), "The saved search state was made with another ", key,
                    ": saved ", s.at(key).dump(), ", now ", mine.at(key).dump());
    std::vector<Evaluation> history;
    for (const auto& e : s.at("history")) history.push_back(evaluation_from_json(e));
    Rng rng;
    rng.load_state(s.at("rng").get<std::string>());
    do_load_state(s.at("internal"));
    history_ = std::move(history);
    rng_ = rng;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("Strategy '{}': malformed saved state: {}", name(), e.what()));
  }
}

}  // namespace hwnas::strategy

#include "hwnas/strategy/builtin.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <nlohmann/json.hpp>

#include "hwnas/core/json_number.h"
#include "hwnas/core/config.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"
#include "hwnas/strategy/linas.h"
#include "hwnas/strategy/rl.h"

namespace hwnas::strategy {

// --- random --------------------------------------------------------------------------

RandomSearch::RandomSearch(const nlohmann::json& config) { ConfigReader(config, "random strategy config").finish(); }

nlohmann::json RandomSearch::config() const { return nlohmann::json::object(); }

std::vector<Arch> RandomSearch::do_ask(int64_t n) {
  std::vector<Arch> out;
  const double size = space().size();
  for (int64_t i = 0; i < n; ++i) {
    Arch a = space().sample(rng());
    // Re-draw archs already asked while the space is far from exhausted.
    for (int tries = 0; seen_.count(a.str()) && static_cast<double>(seen_.size()) < 0.5 * size && tries < 100; ++tries)
      a = space().sample(rng());
    if (seen_.count(a.str()) && size <= kEnumerateLimit) {
      // Half the space or more was asked: draw from the archs left. The list keeps the
      // enumeration order, so a resumed search (which rebuilds it) draws the same.
      if (!left_built_) {
        for (auto& e : space().enumerate(kEnumerateLimit))
          if (!seen_.count(e.str())) left_.push_back(std::move(e));
        left_built_ = true;
      }
      if (!left_.empty()) {
        const auto k = rng().uniform_int(static_cast<int64_t>(left_.size()));
        a = left_[static_cast<size_t>(k)];
        left_.erase(left_.begin() + k);
      }
    } else if (left_built_ && !seen_.count(a.str())) {
      left_.erase(std::remove_if(left_.begin(), left_.end(), [&](const Arch& e) { return e.str() == a.str(); }), left_.end());
    }
    seen_.insert(a.str());
    asked_.push_back(a.str());
    out.push_back(std::move(a));
  }
  return out;
}

nlohmann::json RandomSearch::do_state() const { return {{"asked", asked_}}; }
void RandomSearch::do_load_state(const nlohmann::json& s) {
  asked_ = s.at("asked").get<std::vector<std::string>>();
  seen_ = std::unordered_set<std::string>(asked_.begin(), asked_.end());
  left_.clear();
  left_built_ = false;
}

// --- regularized evolution -----------------------------------------------------------

void EvolutionOptions::validate() const {
  options::check(*this, "evolution options");
  HWNAS_CHECK_T(ConfigError, sample_size() <= population(), "evolution options: sample_size (", sample_size(),
                ") must not exceed population (", population(), ")");
}

EvolutionOptions EvolutionOptions::from_json(const nlohmann::json& config) {
  auto o = options::read<EvolutionOptions>(config, "evolution strategy config");
  o.validate();
  return o;
}

nlohmann::json EvolutionOptions::to_json() const { return options::write(*this); }

std::vector<Arch> RegularizedEvolution::do_ask(int64_t n) {
  std::vector<Arch> out;
  for (int64_t i = 0; i < n; ++i) {
    // Random archs until the first population is handed out, then children. A child needs
    // a told population; if none is told yet, sample.
    if (asked_random_ < options_.population() || population_.empty()) {
      ++asked_random_;
      out.push_back(space().sample(rng()));
      continue;
    }
    const Evaluation* parent = nullptr;
    for (int64_t k = 0; k < options_.sample_size(); ++k) {
      const auto& c = population_[static_cast<size_t>(rng().uniform_int(static_cast<int64_t>(population_.size())))];
      if (!parent || better(c, *parent)) parent = &c;
    }
    out.push_back(space().mutate(parent->arch, rng()));
  }
  return out;
}

void RegularizedEvolution::do_tell(const std::vector<Evaluation>& evals) {
  for (const auto& e : evals) {
    population_.push_back(e);
    if (static_cast<int64_t>(population_.size()) > options_.population()) population_.pop_front();  // the oldest dies
  }
}

nlohmann::json RegularizedEvolution::do_state() const {
  nlohmann::json pop = nlohmann::json::array();
  for (const auto& e : population_) pop.push_back(evaluation_to_json(e));
  return {{"population", pop}, {"asked_random", asked_random_}};
}

void RegularizedEvolution::do_load_state(const nlohmann::json& s) {
  std::deque<Evaluation> pop;
  for (const auto& e : s.at("population")) pop.push_back(evaluation_from_json(e));
  population_ = std::move(pop);
  asked_random_ = json_integer<int64_t>(s.at("asked_random"), "evolution state: \"asked_random\"");
}

// --- NSGA-II -------------------------------------------------------------------------

void Nsga2Options::validate() const { options::check(*this, "nsga2 options"); }

Nsga2Options Nsga2Options::from_json(const nlohmann::json& config) {
  return options::read<Nsga2Options>(config, "nsga2 strategy config");
}

nlohmann::json Nsga2Options::to_json() const { return options::write(*this); }

std::vector<int> Nsga2::non_dominated_ranks(const std::vector<Evaluation>& evals, const std::vector<Objective>& objectives) {
  const size_t n = evals.size();
  std::vector<std::vector<size_t>> dominated_by_me(n);
  std::vector<int> count(n, 0), rank(n, -1);
  std::vector<size_t> current;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const int d = dominance(evals[i], evals[j], objectives);
      if (d > 0) {
        dominated_by_me[i].push_back(j);
        ++count[j];
      } else if (d < 0) {
        dominated_by_me[j].push_back(i);
        ++count[i];
      }
    }
  for (size_t i = 0; i < n; ++i)
    if (count[i] == 0) {
      rank[i] = 0;
      current.push_back(i);
    }
  for (int r = 0; !current.empty(); ++r) {
    std::vector<size_t> next;
    for (size_t i : current)
      for (size_t j : dominated_by_me[i])
        if (--count[j] == 0) {
          rank[j] = r + 1;
          next.push_back(j);
        }
    current = std::move(next);
  }
  return rank;
}

std::vector<double> Nsga2::crowding_distances(const std::vector<Evaluation>& evals, const std::vector<int>& ranks,
                                              const std::vector<Objective>& objectives) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> d(evals.size(), 0.0);
  const int max_rank = ranks.empty() ? -1 : *std::max_element(ranks.begin(), ranks.end());
  for (int r = 0; r <= max_rank; ++r) {
    std::vector<size_t> front;
    for (size_t i = 0; i < evals.size(); ++i)
      if (ranks[i] == r) front.push_back(i);
    for (size_t m = 0; m < objectives.size(); ++m) {
      std::sort(front.begin(), front.end(), [&](size_t a, size_t b) { return evals[a].objectives[m] < evals[b].objectives[m]; });
      const double lo = evals[front.front()].objectives[m], hi = evals[front.back()].objectives[m];
      d[front.front()] = d[front.back()] = inf;
      if (hi <= lo) continue;
      for (size_t k = 1; k + 1 < front.size(); ++k)
        d[front[k]] += (evals[front[k + 1]].objectives[m] - evals[front[k - 1]].objectives[m]) / (hi - lo);
    }
  }
  return d;
}

std::vector<size_t> Nsga2::best_first(const std::vector<Evaluation>& evals, const std::vector<Objective>& objectives) {
  return best_first(evals, non_dominated_ranks(evals, objectives), objectives);
}

std::vector<size_t> Nsga2::best_first(const std::vector<Evaluation>& evals, const std::vector<int>& ranks,
                                      const std::vector<Objective>& objectives) {
  const auto crowd = crowding_distances(evals, ranks, objectives);
  std::vector<size_t> order(evals.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return ranks[a] != ranks[b] ? ranks[a] < ranks[b] : crowd[a] > crowd[b];
  });
  return order;
}

std::vector<Arch> Nsga2::do_ask(int64_t n) {
  std::vector<Arch> out;
  for (int64_t i = 0; i < n; ++i) {
    // Random archs until a first population has been told and ranked.
    if (asked_random_ < options_.population() || rank_.empty()) {
      ++asked_random_;
      out.push_back(space().sample(rng()));
      continue;
    }
    // Binary tournament on (rank, crowding distance).
    auto tournament = [&]() -> const Evaluation& {
      const auto a = static_cast<size_t>(rng().uniform_int(static_cast<int64_t>(population_.size())));
      const auto b = static_cast<size_t>(rng().uniform_int(static_cast<int64_t>(population_.size())));
      if (rank_[a] != rank_[b]) return population_[rank_[a] < rank_[b] ? a : b];
      return population_[crowding_[a] >= crowding_[b] ? a : b];
    };
    const Evaluation& p1 = tournament();
    const Evaluation& p2 = tournament();
    Arch child = rng().uniform() < options_.crossover_prob() ? space().crossover(p1.arch, p2.arch, rng()) : p1.arch;
    for (int64_t m = 0; m < options_.mutations(); ++m) child = space().mutate(child, rng());
    out.push_back(std::move(child));
  }
  return out;
}

void Nsga2::do_tell(const std::vector<Evaluation>& evals) {
  for (const auto& e : evals) {
    if (static_cast<int64_t>(population_.size()) < options_.population() && offspring_.empty()) {
      population_.push_back(e);  // the initial population
      if (static_cast<int64_t>(population_.size()) == options_.population()) survive();
      continue;
    }
    offspring_.push_back(e);
    if (static_cast<int64_t>(offspring_.size()) >= options_.population()) survive();
  }
}

// Merges parents and offspring and keeps the best `population` by (rank, crowding).
// The survivors are whole fronts plus part of the last one, so every arch that dominates a
// survivor survives too: their ranks among themselves are their ranks in the merged set.
void Nsga2::survive() {
  std::vector<Evaluation> all = std::move(population_);
  all.insert(all.end(), std::make_move_iterator(offspring_.begin()), std::make_move_iterator(offspring_.end()));
  offspring_.clear();
  const auto ranks = non_dominated_ranks(all, objectives());
  auto order = best_first(all, ranks, objectives());
  order.resize(std::min(order.size(), static_cast<size_t>(options_.population())));
  population_.clear();
  rank_.clear();
  for (size_t i : order) {
    population_.push_back(std::move(all[i]));
    rank_.push_back(ranks[i]);
  }
  crowding_ = crowding_distances(population_, rank_, objectives());
}

nlohmann::json Nsga2::do_state() const {
  nlohmann::json pop = nlohmann::json::array(), off = nlohmann::json::array();
  for (const auto& e : population_) pop.push_back(evaluation_to_json(e));
  for (const auto& e : offspring_) off.push_back(evaluation_to_json(e));
  return {{"population", pop}, {"offspring", off}, {"asked_random", asked_random_}};
}

void Nsga2::do_load_state(const nlohmann::json& s) {
  std::vector<Evaluation> pop, off;
  for (const auto& e : s.at("population")) pop.push_back(evaluation_from_json(e));
  for (const auto& e : s.at("offspring")) off.push_back(evaluation_from_json(e));
  population_ = std::move(pop);
  offspring_ = std::move(off);
  asked_random_ = json_integer<int64_t>(s.at("asked_random"), "nsga2 state: \"asked_random\"");
  // Ranked once the first population is complete (as survive() does).
  rank_.clear();
  crowding_.clear();
  if (static_cast<int64_t>(population_.size()) == options_.population()) {
    rank_ = non_dominated_ranks(population_, objectives());
    crowding_ = crowding_distances(population_, rank_, objectives());
  }
}

void register_builtin_strategies(StrategyRegistry& registry) {
  registry.add("random", "Random search (the baseline)", [](const nlohmann::json& c) { return std::make_unique<RandomSearch>(c); });
  registry.add("evolution", "Regularized (aging) evolution, Real et al. 2019",
               [](const nlohmann::json& c) { return std::make_unique<RegularizedEvolution>(EvolutionOptions::from_json(c)); });
  registry.add("nsga2", "NSGA-II, multi-objective with constraint domination, Deb et al. 2002",
               [](const nlohmann::json& c) { return std::make_unique<Nsga2>(Nsga2Options::from_json(c)); });
  registry.add("linas", "LINAS: predictor-guided NSGA-II, few real evaluations (DyNAS-T, Cummings et al. 2022)",
               [](const nlohmann::json& c) { return std::make_unique<Linas>(LinasOptions::from_json(c)); });
  registry.add("rl", "RL controller: LSTM policy trained with REINFORCE (NASNet/ENAS; MnasNet reward)",
               [](const nlohmann::json& c) { return std::make_unique<RlController>(RlOptions::from_json(c)); });
}

StrategyRegistry& strategy_registry() {
  static StrategyRegistry* registry = [] {
    auto* r = new StrategyRegistry("strategy");
    register_builtin_strategies(*r);
    return r;
  }();
  return *registry;
}

std::unique_ptr<Strategy> make_strategy(const std::string& name) { return strategy_registry().create(name); }
std::unique_ptr<Strategy> make_strategy(const std::string& name, const nlohmann::json& config) {
  return strategy_registry().create(name, config);
}

}  // namespace hwnas::strategy

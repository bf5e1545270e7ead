#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/strategy/builtin.h"
#include "hwnas/strategy/linas.h"
#include "hwnas/strategy/rl.h"
#include "test_util.h"

using namespace hwnas;
using namespace hwnas::strategy;

namespace {

// A smooth objective on NAS-Bench-201 with one interaction. The optimum is every edge
// nor_conv_1x1 (op 2): 1.0 + 1.2 + ... + 2.0 = 9.0; the 3x3 bonus on edges 0 and 5 leads
// to a local optimum of 8.3.
double score(const Arch& a) {
  static const double op_score[5] = {0.0, 0.3, 1.0, 0.6, 0.2};
  double y = 0;
  for (size_t e = 0; e < a.genes().size(); ++e) y += op_score[a.genes()[e]] * (1 + 0.2 * static_cast<double>(e));
  if (a.genes()[0] == 3 && a.genes()[5] == 3) y += 0.5;
  return y;
}
double convs(const Arch& a) {
  double n = 0;
  for (int g : a.genes()) n += (g == 2 || g == 3) ? 1 : 0;
  return n;
}

const std::vector<Objective> kMax = {{"score", Direction::kMaximize}};
const std::vector<Objective> kTwo = {{"score", Direction::kMaximize}, {"convs", Direction::kMinimize}};

std::shared_ptr<const SearchSpace> nb201() { return std::shared_ptr<const SearchSpace>(make_space("nb201")); }

// Runs `budget` evaluations in batches of `batch`.
void run(Strategy& s, int budget, int batch, bool two_objectives = false) {
  for (int done = 0; done < budget; done += batch) {
    std::vector<Evaluation> evals;
    for (const auto& a : s.ask(batch)) {
      Evaluation e{a, {score(a)}, 0};
      if (two_objectives) e.objectives.push_back(convs(a));
      evals.push_back(e);
    }
    s.tell(evals);
  }
}

const std::vector<std::pair<std::string, nlohmann::json>> kStrategies = {
    {"random", nlohmann::json::object()},
    {"evolution", {{"population", 20}, {"sample_size", 5}}},
    {"nsga2", {{"population", 20}}},
    {"rl", {{"lr", 0.05}}},
    {"linas", {{"population", 8}, {"inner_evaluations", 200}, {"inner", {{"population", 20}}}, {"predictor", "ridge"}}},
};

}  // namespace

TEST_CASE("Dominance with constraints, Pareto fronts, NSGA-II ranks and crowding", "[strategy]") {
  auto space = nb201();
  Rng rng(1);
  auto arch = [&] { return space->sample(rng); };
  const Evaluation a{arch(), {0.9, 5}, 0}, b{arch(), {0.8, 6}, 0}, c{arch(), {0.95, 7}, 0}, d{arch(), {0.99, 1}, 2.0},
      e{arch(), {0.99, 1}, 1.0};
  REQUIRE(dominates(a, b, kTwo));
  REQUIRE_FALSE(dominates(a, c, kTwo));
  REQUIRE_FALSE(dominates(c, a, kTwo));
  REQUIRE(dominates(b, d, kTwo));  // feasible beats infeasible whatever the objectives
  REQUIRE(dominates(e, d, kTwo));  // smaller violation
  const auto front = pareto_front({a, b, c, d, e}, kTwo);
  REQUIRE(front.size() == 2);
  const auto ranks = Nsga2::non_dominated_ranks({a, b, c, d, e}, kTwo);
  REQUIRE(ranks == std::vector<int>{0, 1, 0, 3, 2});
  const auto crowd = Nsga2::crowding_distances({a, b, c, d, e}, ranks, kTwo);
  REQUIRE(std::isinf(crowd[0]));
  REQUIRE(std::isinf(crowd[2]));
}

TEST_CASE("Random search asks every arch of a space once before any again, also across a resume", "[strategy]") {
  const auto space = nb201();
  const auto n = static_cast<int64_t>(space->size());
  auto full = make_strategy("random");
  full->setup(space, kMax, 5);
  std::vector<std::string> asked;
  nlohmann::json saved;
  for (int64_t done = 0; done < n; done += 625) {
    if (done == 10000) saved = nlohmann::json::parse(full->state().dump());
    std::vector<Evaluation> evals;
    for (const auto& a : full->ask(625)) {
      asked.push_back(a.str());
      evals.push_back({a, {score(a)}, 0});
    }
    full->tell(evals);
  }
  CHECK(std::set<std::string>(asked.begin(), asked.end()).size() == static_cast<size_t>(n));
  auto resumed = make_strategy("random");
  resumed->setup(space, kMax, 5);
  resumed->load_state(saved);
  for (int64_t done = 10000; done < n; done += 625) {
    std::vector<Evaluation> evals;
    for (const auto& a : resumed->ask(625)) {
      REQUIRE(a.str() == asked[static_cast<size_t>(done) + evals.size()]);
      evals.push_back({a, {score(a)}, 0});
    }
    resumed->tell(evals);
  }
}

TEST_CASE("Every strategy is deterministic given its seed and resumes exactly", "[strategy]") {
  for (const auto& [name, config] : kStrategies) {
    DYNAMIC_SECTION(name) {
      const bool two = name == "nsga2" || name == "linas";
      const auto& objectives = two ? kTwo : kMax;
      auto full = make_strategy(name, config);
      full->setup(nb201(), objectives, 7);
      run(*full, 120, 8, two);
      // Interrupted after 56 evaluations: a new strategy restores the saved state.
      auto first = make_strategy(name, config);
      first->setup(nb201(), objectives, 7);
      run(*first, 56, 8, two);
      const auto saved = nlohmann::json::parse(first->state().dump());
      auto resumed = make_strategy(name, config);
      resumed->setup(nb201(), objectives, 7);
      resumed->load_state(saved);
      run(*resumed, 64, 8, two);
      REQUIRE(resumed->history().size() == full->history().size());
      for (size_t i = 0; i < full->history().size(); ++i) REQUIRE(resumed->history()[i].arch == full->history()[i].arch);
      // Another seed searches differently.
      auto other = make_strategy(name, config);
      other->setup(nb201(), objectives, 8);
      run(*other, 120, 8, two);
      bool differs = false;
      for (size_t i = 0; i < full->history().size(); ++i) differs = differs || other->history()[i].arch != full->history()[i].arch;
      REQUIRE(differs);
      // A state of another configuration or seed is refused.
      auto wrong = make_strategy(name, config);
      wrong->setup(nb201(), objectives, 9);
      REQUIRE_THROWS_WITH_ALL(ConfigError, wrong->load_state(saved), "another seed");
    }
  }
}

TEST_CASE("Regularized evolution and NSGA-II beat random search on a synthetic objective", "[strategy]") {
  double evo = 0, rnd = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    auto r = make_strategy("random"), e = make_strategy("evolution", {{"population", 20}, {"sample_size", 5}});
    r->setup(nb201(), kMax, seed);
    e->setup(nb201(), kMax, seed);
    run(*r, 200, 1);
    run(*e, 200, 1);
    rnd += r->best().objectives[0] / 10;
    evo += e->best().objectives[0] / 10;
  }
  INFO("mean best: evolution " << evo << ", random " << rnd);
  REQUIRE(evo > rnd);
  REQUIRE(evo > 8.9);

  // NSGA-II's front is mutually non-dominated and reaches both ends of the trade-off.
  auto n = make_strategy("nsga2", {{"population", 20}});
  n->setup(nb201(), kTwo, 3);
  run(*n, 300, 10, true);
  const auto front = n->front();
  for (const auto& x : front)
    for (const auto& y : front) REQUIRE_FALSE(dominates(x, y, kTwo));
  double best_score = 0, fewest = 99;
  for (const auto& x : front) {
    best_score = std::max(best_score, x.objectives[0]);
    fewest = std::min(fewest, x.objectives[1]);
  }
  REQUIRE(best_score > 8.5);
  REQUIRE(fewest == 0);
}

// The area that the points dominate up to the reference (score 0, 6 convs), maximizing
// score and minimizing convs.
double hypervolume2(const std::vector<Evaluation>& evals) {
  std::vector<std::pair<double, double>> pts;  // (convs, score)
  for (const auto& e : pareto_front(evals, kTwo))
    if (e.violation == 0) pts.emplace_back(e.objectives[1], e.objectives[0]);
  std::sort(pts.begin(), pts.end());
  double area = 0, best = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    best = std::max(best, pts[i].second);
    const double next = i + 1 < pts.size() ? pts[i + 1].first : 6.0;
    area += best * (next - pts[i].first);
  }
  return area;
}

TEST_CASE("LINAS reaches a better front than NSGA-II and random search with the same real evaluations", "[strategy]") {
  // The objectives are sums over edges (one interaction): ridge on the one-hot encoding
  // fits them.
  const nlohmann::json config = {
      {"population", 20}, {"inner_evaluations", 1000}, {"inner", {{"population", 50}}}, {"predictor", "ridge"}};
  double hv_linas = 0, hv_nsga2 = 0, hv_random = 0;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    auto l = make_strategy("linas", config), n = make_strategy("nsga2", {{"population", 20}}), r = make_strategy("random");
    for (auto* s : {l.get(), n.get(), r.get()}) {
      s->setup(nb201(), kTwo, seed);
      run(*s, 80, 10, true);
    }
    REQUIRE(dynamic_cast<Linas&>(*l).rounds() == 3);  // 20 random, then 3 rounds of 20
    std::set<std::string> distinct;
    for (const auto& e : l->history()) distinct.insert(e.arch.str());
    REQUIRE(distinct.size() == 80);  // no arch is evaluated twice
    hv_linas += hypervolume2(l->history()) / 4;
    hv_nsga2 += hypervolume2(n->history()) / 4;
    hv_random += hypervolume2(r->history()) / 4;
  }
  INFO("hypervolume after 80 evaluations: linas " << hv_linas << ", nsga2 " << hv_nsga2 << ", random " << hv_random);
  REQUIRE(hv_linas > hv_nsga2);
  REQUIRE(hv_linas > hv_random);

  // Under a constraint (at most 2 convs), a violation predictor steers the rounds: most
  // archs they propose are feasible, against about a third of random samples.
  auto c = make_strategy("linas", config);
  c->setup(nb201(), kTwo, 1);
  for (int done = 0; done < 60; done += 10) {
    std::vector<Evaluation> evals;
    for (const auto& a : c->ask(10)) evals.push_back({a, {score(a), convs(a)}, std::max(0.0, convs(a) - 2)});
    c->tell(evals);
  }
  int feasible = 0;
  for (size_t i = 20; i < 60; ++i) feasible += c->history()[i].violation == 0;
  INFO(feasible << " of the 40 archs of the rounds are feasible");
  REQUIRE(feasible >= 30);
}

TEST_CASE("The RL controller learns the objective and computes MnasNet's reward", "[strategy]") {
  auto rl = make_strategy("rl", {{"lr", 0.05}});
  rl->setup(nb201(), kMax, 0);
  run(*rl, 400, 10);
  // Uniform sampling scores 0.42 x 9 = 3.78 (+ a rare bonus) on average; the first batch
  // comes from the untrained policy.
  double first = 0, last = 0;
  const auto& h = rl->history();
  for (size_t i = 0; i < 10; ++i) first += h[i].objectives[0] / 10;
  for (size_t i = 0; i < 100; ++i) last += h[h.size() - 1 - i].objectives[0] / 100;
  INFO("mean score of the first batch " << first << ", of the last 100 archs " << last);
  REQUIRE(first < 5.5);
  REQUIRE(last > 7.0);
  // The policy now prefers nor_conv_1x1 (option 2) on the last edge, the most rewarded.
  const auto probs = dynamic_cast<RlController&>(*rl).greedy_probabilities();
  REQUIRE(probs.size() == 6);
  REQUIRE(std::max_element(probs[5].begin(), probs[5].end()) - probs[5].begin() == 2);
  REQUIRE(probs[5][2] > 0.5);

  // MnasNet: acc * (lat / target)^w with w = -0.07 on both sides of the target.
  RlController m(RlOptions().reward("mnasnet").target(25));
  m.setup(nb201(), kTwo, 0);
  Rng rng(1);
  const auto a = nb201()->sample(rng);
  REQUIRE(m.reward({a, {0.8, 50}, 0}) == Approx(0.8 * std::pow(2.0, -0.07)));
  REQUIRE(m.reward({a, {0.8, 12.5}, 0}) == Approx(0.8 * std::pow(0.5, -0.07)));
  REQUIRE(m.reward({a, {0.8, 25}, 0.5}) == Approx(0.8 - 0.5));  // minus penalty x violation
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_strategy("rl", {{"reward", "mnasnet"}}), "\"target\"");
}

TEST_CASE("Strategy misuse gets clear errors", "[strategy][errors]") {
  REQUIRE_THROWS_WITH_ALL(NotFoundError, make_strategy("annealing"), "Unknown strategy 'annealing'", "evolution", "nsga2", "random");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_strategy("evolution", {{"population", 5}, {"sample_size", 10}}), "sample_size", "population");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_strategy("nsga2", {{"pop", 5}}), "pop");
  // Options built in C++ get the checks a JSON config gets.
  using namespace hwnas::strategy;
  REQUIRE_THROWS_WITH_ALL(ConfigError, RegularizedEvolution(EvolutionOptions().population(5).sample_size(10)),
                          "sample_size (10)", "population (5)");
  REQUIRE_THROWS_WITH_ALL(ConfigError, RegularizedEvolution(EvolutionOptions().population(1)), "population",
                          "[2, 1000000]", "is 1");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Nsga2(Nsga2Options().crossover_prob(1.5)), "crossover_prob", "1.5");
  REQUIRE_THROWS_WITH_ALL(ConfigError, RlController(RlOptions().reward("mnasnet")), "\"mnasnet\"", "target");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_strategy("linas", {{"predictor", "oracle"}}), "linas options", "'oracle'",
                          "ridge", "hwnas predictors");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_strategy("linas", {{"predictor_config", {{"alpha", -1}}}}), "predictor_config",
                          "alpha");
  REQUIRE_THROWS_WITH_ALL(ConfigError, make_strategy("linas", {{"predictor_config", 3}}), "predictor_config", "JSON object");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Linas(LinasOptions().inner_evaluations(10)), "inner_evaluations (10)",
                          "inner.population (50)");
  REQUIRE_THROWS_WITH_ALL(ConfigError, Linas(LinasOptions().inner(Nsga2Options().population(1))), "population", "is 1");
  REQUIRE_THROWS_WITH_ALL(ConfigError, RlController(RlOptions().reward("greedy")), "reward", "'greedy'", "objective, mnasnet");
  CHECK(EvolutionOptions::from_json(EvolutionOptions().population(7).sample_size(3).to_json()).to_json() ==
        nlohmann::json({{"population", 7}, {"sample_size", 3}}));
  auto s = make_strategy("random");
  REQUIRE_THROWS_WITH_ALL(ConfigError, s->ask(1), "setup()");
  s->setup(nb201(), kMax, 0);
  REQUIRE_THROWS_WITH_ALL(ConfigError, s->ask(0), "n >= 1");
  const auto a = s->ask(1)[0];
  REQUIRE_THROWS_WITH_ALL(ConfigError, s->tell({{a, {1.0, 2.0}, 0}}), "2 objective values, expected 1");
  REQUIRE_THROWS_WITH_ALL(DataError, s->tell({{a, {std::nan("")}, 0}}), "objective 'score'", "nan");
  REQUIRE_THROWS_WITH_ALL(ConfigError, s->best(), "nothing evaluated");
}

#include "hwnas/strategy/linas.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/core/json_number.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/core/search_space.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::strategy {

void LinasOptions::validate() const {
  options::check(*this, "linas options");
  inner().validate();
  HWNAS_CHECK_T(ConfigError, inner_evaluations() >= inner().population(), "linas options: inner_evaluations (",
                inner_evaluations(), ") must be at least inner.population (", inner().population(),
                "): the inner NSGA-II needs one generation");
  HWNAS_CHECK_T(ConfigError, predictors::predictor_registry().contains(predictor()), "linas options: unknown predictor '",
                predictor(), "'; registered: ", fmt::format("{}", fmt::join(predictors::predictor_registry().names(), ", ")),
                " (hwnas predictors lists them)");
  try {
    predictors::make_predictor(predictor(), predictor_config());
  } catch (const ConfigError& e) {
    throw ConfigError(detail::concat("linas options: predictor_config: ", e.what()));
  }
}

LinasOptions LinasOptions::from_json(const nlohmann::json& config) {
  auto o = options::read<LinasOptions>(config, "linas strategy config");
  o.validate();
  return o;
}

nlohmann::json LinasOptions::to_json() const { return options::write(*this); }

Linas::Linas(LinasOptions options) : options_(std::move(options)) { options_.validate(); }

void Linas::mark_asked(const Arch& arch) {
  if (seen_.insert(arch.str()).second) asked_.push_back(arch.str());
}

// A sample not asked before (re-drawn a bounded number of times, as random search does).
Arch Linas::fresh_sample() {
  Arch a = space().sample(rng());
  for (int tries = 0; seen_.count(a.str()) && tries < 100; ++tries) a = space().sample(rng());
  return a;
}

std::vector<Arch> Linas::do_ask(int64_t n) {
  std::vector<Arch> out;
  for (int64_t i = 0; i < n; ++i) {
    if (asked_random_ < options_.population()) {
      ++asked_random_;
      out.push_back(fresh_sample());
    } else {
      if (proposed_.empty()) run_round();
      if (proposed_.empty()) {  // nothing told yet to fit on
        out.push_back(fresh_sample());
      } else {
        out.push_back(std::move(proposed_.front()));
        proposed_.erase(proposed_.begin());
      }
    }
    mark_asked(out.back());
  }
  return out;
}

void Linas::run_round() {
  const auto& told = history();
  if (told.size() < 2) return;  // too few to fit: the caller samples
  std::vector<Arch> archs;
  archs.reserve(told.size());
  for (const auto& e : told) archs.push_back(e.arch);
  // One predictor per objective, and one for the violation once an arch broke a constraint.
  const bool constrained = std::any_of(told.begin(), told.end(), [](const Evaluation& e) { return e.violation > 0; });
  const size_t targets = objectives().size() + (constrained ? 1 : 0);
  std::vector<std::unique_ptr<predictors::Predictor>> models;
  for (size_t m = 0; m < targets; ++m) models.push_back(predictors::make_predictor(options_.predictor(), options_.predictor_config()));
  const auto kind = models[0]->encoding_kind();  // the config's "encoding"
  const auto x = predictors::encode_archs(space(), archs, kind);
  const auto encoding = predictors::EncodingInfo::of(space(), kind);
  for (size_t m = 0; m < targets; ++m) {
    std::vector<double> y;
    y.reserve(told.size());
    for (const auto& e : told) y.push_back(m < objectives().size() ? e.objectives[m] : e.violation);
    models[m]->fit(x, y, encoding);
  }
  ++rounds_;

  // The inner search sees only predictions. It borrows the space (it lives for this call).
  Nsga2 inner(options_.inner());
  inner.setup(std::shared_ptr<const SearchSpace>(std::shared_ptr<const SearchSpace>(), &space()), objectives(), rng().next());
  // Predicted values (objectives, violation) of archs, for the inner search.
  auto predict = [&](const std::vector<Arch>& batch) {
    const auto bx = predictors::encode_archs(space(), batch, kind);
    std::vector<std::vector<double>> predicted;
    for (const auto& p : models) predicted.push_back(p->predict(bx).mean);
    std::vector<Evaluation> evals(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      evals[i].arch = batch[i];
      for (size_t m = 0; m < objectives().size(); ++m) evals[i].objectives.push_back(predicted[m][i]);
      if (constrained) evals[i].violation = std::max(0.0, predicted.back()[i]);
      if (!std::isfinite(evals[i].violation)) evals[i].violation = 0;
    }
    return evals;
  };
  if (options_.inner_start() == "front") {
    // The inner population starts from the best of the real evaluations (the inner
    // NSGA-II takes the first evaluations it is told as its population).
    auto order = Nsga2::best_first(told, objectives());
    order.resize(std::min(order.size(), static_cast<size_t>(options_.inner().population())));
    std::vector<Arch> start;
    for (size_t i : order) start.push_back(told[i].arch);
    inner.tell(predict(start));
  }
  for (int64_t done = 0; done < options_.inner_evaluations();) {
    const auto batch = inner.ask(std::min(options_.inner().population(), options_.inner_evaluations() - done));
    inner.tell(predict(batch));
    done += static_cast<int64_t>(batch.size());
  }

  // The inner population is ordered by front and crowding: its best new archs, then
  // mutations of them, then samples, until the round has `population` archs.
  std::unordered_set<std::string> taken;
  auto take = [&](Arch a) {
    if (static_cast<int64_t>(proposed_.size()) >= options_.population() || seen_.count(a.str()) || !taken.insert(a.str()).second)
      return;
    proposed_.push_back(std::move(a));
  };
  const auto& survivors = inner.population();
  for (const auto& e : survivors) take(e.arch);
  for (int tries = 0; static_cast<int64_t>(proposed_.size()) < options_.population() && !survivors.empty() && tries < 1000; ++tries)
    take(space().mutate(survivors[static_cast<size_t>(tries) % survivors.size()].arch, rng()));
  for (int tries = 0; static_cast<int64_t>(proposed_.size()) < options_.population() && tries < 1000; ++tries)
    take(fresh_sample());
}

nlohmann::json Linas::do_state() const {
  std::vector<std::string> proposed;
  for (const auto& a : proposed_) proposed.push_back(a.str());
  return {{"asked", asked_}, {"proposed", proposed}, {"asked_random", asked_random_}, {"rounds", rounds_}};
}

void Linas::do_load_state(const nlohmann::json& s) {
  std::vector<Arch> proposed;
  for (const auto& a : s.at("proposed")) proposed.push_back(space().parse(a.get<std::string>()));
  asked_ = s.at("asked").get<std::vector<std::string>>();
  seen_ = std::unordered_set<std::string>(asked_.begin(), asked_.end());
  proposed_ = std::move(proposed);
  asked_random_ = json_integer<int64_t>(s.at("asked_random"), "linas state: \"asked_random\"");
  rounds_ = json_integer<int64_t>(s.at("rounds"), "linas state: \"rounds\"");
}

}  // namespace hwnas::strategy

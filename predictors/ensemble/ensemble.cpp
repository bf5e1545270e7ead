#include "hwnas/predictors/ensemble/ensemble.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/random.h"

namespace hwnas::predictors {

EnsembleOptions EnsembleOptions::from_json(const nlohmann::json& config) {
  EnsembleOptions o;
  ConfigReader r(config, "ensemble predictor config");
  o.bootstrap(r.get_bool("bootstrap", o.bootstrap()));
  o.seed(static_cast<uint64_t>(r.get_int("seed", 0, 0, INT32_MAX)));
  const auto members = r.get_json("members", nlohmann::json());
  // Without members: `size` copies of one predictor, by default 5 MLPs.
  const bool given = r.has("predictor") || r.has("config") || r.has("size");
  const auto one = r.get_string("predictor", kDefaultPredictor);
  const auto one_config = r.get_json("config", nlohmann::json::object());
  const int64_t size = r.get_int("size", kDefaultSize, 0, 1000);
  r.finish();
  HWNAS_CHECK_T(ConfigError, members.is_null() || !given,
                "ensemble predictor config: give either \"members\" (a list of {\"predictor\", \"config\"}) "
                "or \"predictor\" with \"size\", e.g. {\"predictor\": \"mlp\", \"size\": 5}, not both");
  if (!members.is_null()) {
    HWNAS_CHECK_T(ConfigError, members.is_array() && !members.empty(),
                  "ensemble predictor config: \"members\" must be a non-empty list");
    for (const auto& m : members) {
      ConfigReader mr(m, "ensemble member");
      EnsembleOptions::Member member{mr.get_string("predictor", ""), mr.get_json("config", nlohmann::json::object())};
      mr.finish();
      HWNAS_CHECK_T(ConfigError, !member.predictor.empty(), "ensemble member without \"predictor\": ", m.dump());
      o.members().push_back(member);
    }
  } else {
    HWNAS_CHECK_T(ConfigError, size >= 1, "ensemble predictor config: \"size\" must be at least 1");
    const bool seeded = predictors::make_predictor(one, one_config)->config().contains("seed");
    for (int64_t i = 0; i < size; ++i) {
      auto c = one_config;
      if (seeded) c["seed"] = c.value("seed", uint64_t{0}) + o.seed() + static_cast<uint64_t>(i);
      o.members().push_back({one, c});
    }
  }
  for (const auto& m : o.members())
    HWNAS_CHECK_T(ConfigError, m.predictor != "ensemble", "an ensemble cannot contain an ensemble");
  return o;
}

nlohmann::json EnsembleOptions::to_json() const {
  nlohmann::json ms = nlohmann::json::array();
  for (const auto& m : members()) ms.push_back({{"predictor", m.predictor}, {"config", m.config}});
  return {{"members", ms}, {"bootstrap", bootstrap()}, {"seed", seed()}};
}

EnsemblePredictor::EnsemblePredictor(EnsembleOptions options) : options_(std::move(options)) {
  if (options_.members().empty())  // the JSON default: 5 MLPs seeded from the ensemble's seed
    options_.members(EnsembleOptions::from_json({{"seed", std::min<uint64_t>(options_.seed(), INT32_MAX)}}).members());
  for (const auto& m : options_.members()) members_.push_back(predictors::make_predictor(m.predictor, m.config));
}
EnsemblePredictor::~EnsemblePredictor() = default;

int64_t EnsemblePredictor::min_rows() const { return 4; }

void EnsemblePredictor::do_fit(const predictors::Features& x, const std::vector<double>& y) {
  Rng rng(options_.seed());
  const auto& member_encoding = encoding();  // the ensemble's (a gcn member reads its graph layout)
  for (auto& m : members_) {
    if (!options_.bootstrap()) {
      m->fit(x, y, member_encoding);
      continue;
    }
    std::vector<int64_t> idx(static_cast<size_t>(x.rows));
    for (auto& i : idx) i = rng.uniform_int(x.rows);
    std::vector<double> yb;
    for (auto i : idx) yb.push_back(y[static_cast<size_t>(i)]);
    m->fit(x.select(idx), yb, member_encoding);
  }
}

predictors::Prediction EnsemblePredictor::do_predict(const predictors::Features& x) const {
  const size_t n = static_cast<size_t>(x.rows);
  std::vector<double> sum(n, 0), sum_sq(n, 0), var(n, 0);
  for (const auto& m : members_) {
    const auto p = m->predict(x);
    for (size_t i = 0; i < n; ++i) {
      sum[i] += p.mean[i];
      sum_sq[i] += p.mean[i] * p.mean[i];
      if (p.has_std()) var[i] += p.std[i] * p.std[i];
    }
  }
  const double k = static_cast<double>(members_.size());
  predictors::Prediction out;
  out.mean.resize(n);
  out.std.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.mean[i] = sum[i] / k;
    const double spread = std::max(sum_sq[i] / k - out.mean[i] * out.mean[i], 0.0);
    out.std[i] = std::sqrt(spread + var[i] / k);
  }
  return out;
}

nlohmann::json EnsemblePredictor::state() const {
  nlohmann::json ms = nlohmann::json::array();
  for (const auto& m : members_) {
    auto j = m->to_json();
    j["encoding"] = encoding().to_json();
    ms.push_back(j);
  }
  return {{"members", ms}};
}

void EnsemblePredictor::load_state(const nlohmann::json& s) {
  HWNAS_CHECK_T(DataError, s.is_object() && s.contains("members") && s["members"].is_array() &&
                               s["members"].size() == members_.size(),
                "predictor state: \"members\" must list the ", members_.size(), " members of the config");
  for (size_t i = 0; i < members_.size(); ++i) {
    auto m = predictors::predictor_from_json(s["members"][i], fmt::format("ensemble member {}", i));
    HWNAS_CHECK_T(DataError, m->name() == options_.members()[i].predictor, "ensemble member ", i,
                  " is a '", m->name(), "' but the config says '", options_.members()[i].predictor, "'");
    members_[i] = std::move(m);
  }
}

void register_ensemble(predictors::PredictorRegistry& registry) {
  registry.add("ensemble", "Mean and spread of several predictors (any registered ones)",
               [](const nlohmann::json& c) { return std::make_unique<EnsemblePredictor>(EnsembleOptions::from_json(c)); });
}

}  // namespace hwnas::predictors

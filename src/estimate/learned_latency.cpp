#include "hwnas/estimate/learned_latency.h"

#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"

namespace hwnas::estimate {

LearnedLatencyModel::LearnedLatencyModel(std::shared_ptr<const SearchSpace> space,
                                         std::shared_ptr<predictors::Predictor> predictor,
                                         std::shared_ptr<const cost::LatencyModel> table)
    : space_(std::move(space)), predictor_(std::move(predictor)), table_(std::move(table)) {
  HWNAS_CHECK_T(ConfigError, space_ && predictor_, "LearnedLatencyModel needs a space and a predictor");
}

void LearnedLatencyModel::fit(const std::vector<cost::Measurement>& ms) {
  std::vector<Arch> archs;
  std::vector<double> y;
  for (const auto& m : ms) archs.push_back(m.arch);
  const auto base = table_ ? table_->predict(archs) : std::vector<double>(ms.size(), 1.0);
  for (size_t i = 0; i < ms.size(); ++i) {
    HWNAS_CHECK_T(DataError, ms[i].ms > 0 && base[i] > 0, "Measurement ", i, " (", ms[i].arch.str(), "): latency ",
                  ms[i].ms, " ms, table ", base[i], " ms; both must be positive");
    y.push_back(ms[i].ms / base[i]);
  }
  predictor_->set_target(table_ ? "latency_ratio_to:" + table_->name() : "latency_ms");
  predictor_->fit(*space_, archs, y);
}

double LearnedLatencyModel::predict(const Arch& arch) const { return predict(std::vector<Arch>{arch}).front(); }

std::vector<double> LearnedLatencyModel::predict(const std::vector<Arch>& archs) const {
  auto out = predictor_->predict(*space_, archs).mean;
  if (table_) {
    const auto base = table_->predict(archs);
    for (size_t i = 0; i < out.size(); ++i) out[i] *= base[i];
  }
  return out;
}

}  // namespace hwnas::estimate

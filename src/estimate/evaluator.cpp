#include "hwnas/estimate/evaluator.h"

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include <spdlog/spdlog.h>
#include "hwnas/core/search_space.h"
#include "hwnas/predictors/predictor.h"

namespace hwnas::estimate {

std::vector<Metrics> Evaluator::evaluate(const std::vector<Arch>& archs) {
  auto out = do_evaluate(archs);
  HWNAS_INTERNAL_ASSERT(out.size() == archs.size(), "evaluator '", name(), "' returned ", out.size(),
                        " results for ", archs.size(), " archs");
  queries_ += static_cast<int64_t>(archs.size());
  return out;
}

TabularEvaluator::TabularEvaluator(const SearchSpace& space, const std::string& path, TabularOptions options)
    : TabularEvaluator(read_arch_table(path, space), std::move(options)) {}

TabularEvaluator::TabularEvaluator(ArchTable table, TabularOptions options)
    : table_(std::move(table)), options_(std::move(options)) {
  if (table_.columns.empty() && !table_.text_columns.empty()) table_.column_index(table_.text_columns[0].name);  // throws
  HWNAS_CHECK_T(DataError, !table_.columns.empty(), table_.path, " has no metric columns besides 'arch'");
  for (const auto& tc : table_.text_columns)
    spdlog::warn("{}: column '{}' is not numeric (line {}: '{}'); it is not a metric of the tabular evaluator",
              table_.path, tc.name, tc.line, tc.value);
  for (size_t r = 0; r < table_.size(); ++r) index_.emplace(table_.archs[r].str(), r);  // unique: read_arch_table
}

bool TabularEvaluator::contains(const Arch& arch) const { return index_.count(arch.str()) > 0; }

std::vector<Metrics> TabularEvaluator::do_evaluate(const std::vector<Arch>& archs) {
  std::vector<Metrics> out(archs.size());
  std::vector<Arch> missing;
  std::vector<size_t> missing_at;
  for (size_t i = 0; i < archs.size(); ++i) {
    HWNAS_CHECK_T(InvalidArchError, table_.archs.empty() || archs[i].space() == table_.archs[0].space(),
                  "Arch of space '", archs[i].space(), "' queried in a table of space '",
                  table_.archs[0].space(), "' (", table_.path, ")");
    const auto it = index_.find(archs[i].str());
    if (it == index_.end()) {
      HWNAS_CHECK_T(NotFoundError, options_.fallback() != nullptr, "Arch ", archs[i].str(), " is not in the table ",
                    table_.path, " (", table_.size(), " archs); evaluate it another way or configure a fallback evaluator");
      missing.push_back(archs[i]);
      missing_at.push_back(i);
      continue;
    }
    for (size_t c = 0; c < table_.columns.size(); ++c) out[i][table_.columns[c]] = table_.values[it->second][c];
  }
  if (!missing.empty()) {
    auto filled = options_.fallback()->evaluate(missing);
    for (size_t k = 0; k < missing.size(); ++k) out[missing_at[k]] = std::move(filled[k]);
    misses_ += static_cast<int64_t>(missing.size());
  }
  return out;
}

PredictorEvaluator::PredictorEvaluator(std::shared_ptr<const SearchSpace> space,
                                       std::shared_ptr<const predictors::Predictor> predictor, std::string metric)
    : space_(std::move(space)), predictor_(std::move(predictor)), metric_(std::move(metric)) {
  HWNAS_CHECK_T(ConfigError, space_ && predictor_ && predictor_->fitted(),
                "PredictorEvaluator needs a space and a fitted predictor");
  if (metric_.empty()) metric_ = predictor_->target().empty() ? "predicted" : predictor_->target();
}

std::vector<std::string> PredictorEvaluator::metrics() const {
  if (predictor_->has_uncertainty()) return {metric_, metric_ + "_std"};
  return {metric_};
}

std::vector<Metrics> PredictorEvaluator::do_evaluate(const std::vector<Arch>& archs) {
  // The archs not seen before, each once.
  if (seen_.size() + archs.size() > kMaxRemembered) seen_.clear();
  std::vector<Arch> todo;
  std::unordered_map<std::string, size_t> todo_index;
  for (const auto& a : archs)
    if (!seen_.count(a.str()) && todo_index.emplace(a.str(), todo.size()).second) todo.push_back(a);
  if (!todo.empty()) {
    const auto p = predictor_->predict(*space_, todo);
    for (size_t k = 0; k < todo.size(); ++k) seen_[todo[k].str()] = {p.mean[k], p.has_std() ? p.std[k] : 0.0};
  }
  remembered_ += static_cast<int64_t>(archs.size() - todo.size());
  const bool with_std = predictor_->has_uncertainty();
  std::vector<Metrics> out(archs.size());
  for (size_t i = 0; i < archs.size(); ++i) {
    const auto& [mean, std] = seen_.at(archs[i].str());
    out[i][metric_] = mean;
    if (with_std) out[i][metric_ + "_std"] = std;
  }
  return out;
}

}  // namespace hwnas::estimate

#include "hwnas/data/dataset.h"

#include <cmath>
#include <numeric>

#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas::data {

Dataset Dataset::subset(const std::vector<int64_t>& indices) const {
  auto idx = torch::tensor(indices, torch::kLong);
  for (auto i : indices)
    HWNAS_CHECK_T(ConfigError, i >= 0 && i < size(), "Index ", i, " is outside dataset '", name,
                  "' of ", size(), " samples");
  return Dataset{images.index_select(0, idx), labels.index_select(0, idx), num_classes, name};
}

Dataset Dataset::slice(int64_t begin, int64_t end) const {
  HWNAS_CHECK_T(ConfigError, 0 <= begin && begin <= end && end <= size(), "Slice [", begin, ", ",
                end, ") is outside dataset '", name, "' of ", size(), " samples");
  return Dataset{images.slice(0, begin, end), labels.slice(0, begin, end), num_classes, name};
}

std::pair<Dataset, Dataset> split(const Dataset& data, double validation_fraction, uint64_t seed) {
  HWNAS_CHECK_T(ConfigError, validation_fraction > 0 && validation_fraction < 1,
                "Expected a validation fraction in (0, 1), but got ", validation_fraction);
  const int64_t n = data.size();
  const auto n_val = static_cast<int64_t>(std::llround(validation_fraction * static_cast<double>(n)));
  HWNAS_CHECK_T(ConfigError, n_val > 0 && n_val < n, "Splitting ", n, " samples with fraction ",
                validation_fraction, " leaves an empty part; use more data");
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  Rng rng(seed);
  rng.shuffle(idx);
  std::vector<int64_t> train(idx.begin(), idx.end() - n_val), val(idx.end() - n_val, idx.end());
  return {data.subset(train), data.subset(val)};
}

std::vector<Batch> batches(const Dataset& data, int64_t batch_size, Rng* rng) {
  HWNAS_CHECK_T(ConfigError, batch_size > 0, "Expected a positive batch size, but got ", batch_size);
  const int64_t n = data.size();
  std::vector<Batch> out;
  if (rng) {
    std::vector<int64_t> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    rng->shuffle(idx);
    auto perm = torch::tensor(idx, torch::kLong);
    for (int64_t b = 0; b < n; b += batch_size) {
      auto sel = perm.slice(0, b, std::min(n, b + batch_size));
      out.push_back({data.images.index_select(0, sel), data.labels.index_select(0, sel)});
    }
  } else {
    for (int64_t b = 0; b < n; b += batch_size) {
      const int64_t e = std::min(n, b + batch_size);
      out.push_back({data.images.slice(0, b, e), data.labels.slice(0, b, e)});
    }
  }
  return out;
}

}  // namespace hwnas::data

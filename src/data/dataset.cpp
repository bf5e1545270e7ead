#include "hwnas/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <tuple>
#include <numeric>
#include <vector>

#include <torch/torch.h>

#include "hwnas/core/error.h"
#include "hwnas/core/threads.h"

namespace hwnas::data {

Dataset Dataset::streamed(std::shared_ptr<const SampleSource> source, std::vector<int64_t> rows, torch::Tensor labels,
                          int64_t num_classes, std::string name, nlohmann::json input, int64_t skipped) {
  HWNAS_CHECK_T(ConfigError, source != nullptr && labels.dim() == 1 && labels.size(0) == static_cast<int64_t>(rows.size()),
                "A streamed dataset needs a source and one label per row");
  Dataset d(torch::Tensor(), std::move(labels), num_classes, std::move(name), std::move(input), skipped);
  d.source = std::move(source);
  d.rows = std::move(rows);
  return d;
}

std::vector<int64_t> Dataset::sample_shape() const {
  if (images.defined()) return {images.size(1), images.size(2), images.size(3)};
  HWNAS_CHECK_T(ConfigError, is_streamed(), "Dataset '", name, "' has no images");
  return source->shape();
}

at::Tensor Dataset::sample(int64_t i) const {
  HWNAS_CHECK_T(ConfigError, i >= 0 && i < size(), "Index ", i, " is outside dataset '", name, "' of ", size(), " samples");
  return images.defined() ? images[i] : source->read(rows[static_cast<size_t>(i)]);
}

void Dataset::sample_into(int64_t i, at::Tensor& out) const {
  HWNAS_CHECK_T(ConfigError, i >= 0 && i < size(), "Index ", i, " is outside dataset '", name, "' of ", size(), " samples");
  if (images.defined()) out.copy_(images[i]);
  else source->read_into(rows[static_cast<size_t>(i)], out);
}

Dataset Dataset::subset(const std::vector<int64_t>& indices) const {
  auto idx = torch::tensor(indices, torch::kLong);
  for (auto i : indices)
    HWNAS_CHECK_T(ConfigError, i >= 0 && i < size(), "Index ", i, " is outside dataset '", name,
                  "' of ", size(), " samples");
  if (is_streamed()) {
    std::vector<int64_t> picked;
    picked.reserve(indices.size());
    for (auto i : indices) picked.push_back(rows[static_cast<size_t>(i)]);
    return streamed(source, std::move(picked), labels.index_select(0, idx), num_classes, name, input, skipped);
  }
  return Dataset{images.index_select(0, idx), labels.index_select(0, idx), num_classes, name, input, skipped};
}

Dataset Dataset::slice(int64_t begin, int64_t end) const {
  HWNAS_CHECK_T(ConfigError, 0 <= begin && begin <= end && end <= size(), "Slice [", begin, ", ",
                end, ") is outside dataset '", name, "' of ", size(), " samples");
  if (is_streamed())
    return streamed(source, std::vector<int64_t>(rows.begin() + begin, rows.begin() + end), labels.slice(0, begin, end),
                    num_classes, name, input, skipped);
  return Dataset{images.slice(0, begin, end), labels.slice(0, begin, end), num_classes, name, input, skipped};
}

Dataset Dataset::in_memory() const {
  if (!is_streamed()) return *this;
  const auto shape = source->shape();
  auto x = torch::empty({size(), shape[0], shape[1], shape[2]}, torch::kFloat32);
  // Read by as many threads as there are cores (SampleSource::read is thread-safe); the
  // first error in sample order is rethrown.
  parallel_indexed(size(), 0, [&](int64_t i) {
    auto slot = x[i];
    sample_into(i, slot);
  });
  return Dataset{x, labels, num_classes, name, input, skipped};
}

std::vector<int64_t> visit_order(int64_t n, Rng* rng) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  if (rng) rng->shuffle(idx);
  return idx;
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

std::vector<int64_t> stratified_choice(const std::vector<int64_t>& labels, int64_t count, uint64_t seed) {
  const auto n = static_cast<int64_t>(labels.size());
  HWNAS_CHECK_T(ConfigError, count >= 0 && count <= n, "Cannot choose ", count, " of ", n, " samples");
  // The samples of each class, shuffled by the seed.
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (int64_t i = 0; i < n; ++i) by_class[labels[static_cast<size_t>(i)]].push_back(i);
  Rng rng(seed);
  for (auto& [label, members] : by_class) rng.shuffle(members);
  // Each class's share: floor(count * n_c / n), then one more for the largest remainders
  // (ties to the smaller label).
  std::vector<std::tuple<int64_t, int64_t, const std::vector<int64_t>*>> shares;  // remainder, label, members
  int64_t given = 0;
  std::map<int64_t, int64_t> take;
  for (const auto& [label, members] : by_class) {
    const auto size = static_cast<int64_t>(members.size());
    take[label] = count * size / n;
    given += take[label];
    shares.emplace_back(count * size % n, label, &members);
  }
  std::stable_sort(shares.begin(), shares.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) > std::get<0>(b) : std::get<1>(a) < std::get<1>(b);
  });
  for (size_t k = 0; given < count; k = (k + 1) % shares.size()) {
    const auto label = std::get<1>(shares[k]);
    if (take[label] < static_cast<int64_t>(std::get<2>(shares[k])->size())) ++take[label], ++given;
  }
  std::vector<int64_t> out;
  for (const auto& [label, members] : by_class) out.insert(out.end(), members.begin(), members.begin() + take[label]);
  std::sort(out.begin(), out.end());
  return out;
}

std::pair<Dataset, Dataset> stratified_split(const Dataset& data, int64_t train_size, int64_t valid_size, uint64_t seed) {
  const int64_t n = data.size();
  if (train_size == 0) train_size = n - valid_size;
  HWNAS_CHECK_T(ConfigError, train_size > 0 && valid_size > 0 && train_size + valid_size <= n, "Splitting ", n,
                " samples of '", data.name, "' into ", train_size, " for training and ", valid_size,
                " for validation needs ", train_size + valid_size, "; give smaller sizes or more data");
  const auto labels_tensor = data.labels.contiguous();
  const std::vector<int64_t> labels(labels_tensor.data_ptr<int64_t>(), labels_tensor.data_ptr<int64_t>() + n);
  const auto valid = stratified_choice(labels, valid_size, seed);
  std::vector<char> in_valid(static_cast<size_t>(n), 0);
  for (auto i : valid) in_valid[static_cast<size_t>(i)] = 1;
  std::vector<int64_t> rest_index, rest_labels;
  for (int64_t i = 0; i < n; ++i)
    if (!in_valid[static_cast<size_t>(i)]) rest_index.push_back(i), rest_labels.push_back(labels[static_cast<size_t>(i)]);
  std::vector<int64_t> train;
  if (train_size == static_cast<int64_t>(rest_index.size())) {
    train = rest_index;
  } else {
    for (auto k : stratified_choice(rest_labels, train_size, seed ^ 0x9e3779b97f4a7c15ULL))
      train.push_back(rest_index[static_cast<size_t>(k)]);
  }
  return {data.subset(train), data.subset(valid)};
}

nlohmann::json input_contract(const at::Tensor& images, const std::string& raw, double divisor,
                              const std::vector<double>& mean, const std::vector<double>& std,
                              nlohmann::json preprocessing) {
  HWNAS_CHECK_T(ConfigError, images.dim() == 4, "An input contract needs N x C x H x W images, not ", images.sizes());
  HWNAS_CHECK_T(ConfigError, mean.size() == std.size() && (mean.empty() || static_cast<int64_t>(mean.size()) == images.size(1)),
                "Normalisation needs one mean and one std per channel (", images.size(1), "), got ", mean.size(), " and ",
                std.size());
  nlohmann::json normalize = nullptr;
  if (!mean.empty()) normalize = {{"mean", mean}, {"std", std}};
  return {{"layout", "NCHW"},
          {"channels", images.size(1)},
          {"height", images.size(2)},
          {"width", images.size(3)},
          {"dtype", "float32"},
          {"raw", raw},
          {"divisor", divisor},
          {"normalize", normalize},
          {"formula", mean.empty() ? "x = raw / divisor (float32)" : "x[c] = (raw[c] / divisor - mean[c]) / std[c] (float32)"},
          {"preprocessing", std::move(preprocessing)}};
}

std::vector<Batch> batches(const Dataset& stored, int64_t batch_size, Rng* rng) {
  HWNAS_CHECK_T(ConfigError, batch_size > 0, "Expected a positive batch size, but got ", batch_size);
  const auto data = stored.in_memory();
  const int64_t n = data.size();
  std::vector<Batch> out;
  if (rng) {
    auto perm = torch::tensor(visit_order(n, rng), torch::kLong);
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

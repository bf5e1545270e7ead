#pragma once
// An image classification dataset, in memory or streamed from a SampleSource, and seeded
// batching.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "hwnas/core/random.h"

namespace hwnas::data {

/// Samples addressed by index and read on demand: a dataset larger than memory (an image
/// folder decoded on the fly). read() is called from several threads at once.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  /// Sample `row` as the network takes it: C x H x W float32, normalised.
  virtual at::Tensor read(int64_t row) const = 0;
  /// C, H, W of every sample.
  virtual std::vector<int64_t> shape() const = 0;
  /// Sample `row` written into `out` (C x H x W float32, contiguous: a batch's slot), the
  /// same values as read(row). The default copies read(row); a source that can write in
  /// place saves the copy.
  virtual void read_into(int64_t row, at::Tensor& out) const { out.copy_(read(row)); }
};

struct Dataset {
  Dataset() = default;
  Dataset(torch::Tensor images, torch::Tensor labels, int64_t num_classes, std::string name = "",
          nlohmann::json input = nullptr, int64_t skipped = 0)
      : images(std::move(images)), labels(std::move(labels)), num_classes(num_classes), name(std::move(name)),
        input(std::move(input)), skipped(skipped) {}

  /// N x C x H x W, float32.
  torch::Tensor images;
  /// N, int64 class indices in [0, num_classes).
  torch::Tensor labels;
  int64_t num_classes = 0;
  std::string name;
  /// The input contract: how a raw sample became these images, what model.json records as
  /// "input" (input_contract() makes it). Null when the loader did not say.
  nlohmann::json input;
  /// Samples left out because they could not be read (image-folder's skip_bad_images).
  int64_t skipped = 0;

  /// A streamed dataset: `images` is undefined, and sample i is source->read(rows[i]).
  std::shared_ptr<const SampleSource> source;
  std::vector<int64_t> rows;

  /// A streamed dataset of the source's rows `rows`, with their labels.
  static Dataset streamed(std::shared_ptr<const SampleSource> source, std::vector<int64_t> rows, torch::Tensor labels,
                          int64_t num_classes, std::string name, nlohmann::json input = nullptr, int64_t skipped = 0);

  bool is_streamed() const { return !images.defined() && source != nullptr; }
  int64_t size() const { return images.defined() ? images.size(0) : is_streamed() ? static_cast<int64_t>(rows.size()) : 0; }
  /// C, H, W of a sample.
  std::vector<int64_t> sample_shape() const;
  /// Sample i (C x H x W), read from the source when streamed.
  at::Tensor sample(int64_t i) const;
  /// Sample i written into `out` (C x H x W float32, contiguous).
  void sample_into(int64_t i, at::Tensor& out) const;
  /// The samples at these indices (a copy; a streamed dataset stays streamed).
  Dataset subset(const std::vector<int64_t>& indices) const;
  /// Samples [begin, end).
  Dataset slice(int64_t begin, int64_t end) const;
  /// The same samples in memory (a streamed dataset is read whole).
  Dataset in_memory() const;
};

/// Splits into (train, validation) with `validation_fraction` of the samples in the
/// second part, after a seeded shuffle.
std::pair<Dataset, Dataset> split(const Dataset& data, double validation_fraction, uint64_t seed);

/// Splits into (train, validation) with `valid_size` samples in the second part and
/// `train_size` (0: the rest) in the first, each class in both parts in proportion to its
/// share (largest remainders), chosen by `seed`; both parts keep the dataset's order.
std::pair<Dataset, Dataset> stratified_split(const Dataset& data, int64_t train_size, int64_t valid_size, uint64_t seed);

/// A seeded class-stratified choice of `count` of `labels.size()` samples, returned in
/// increasing order (every class gets its share, largest remainders first).
std::vector<int64_t> stratified_choice(const std::vector<int64_t>& labels, int64_t count, uint64_t seed);

/// The input contract of images of shape N x C x H x W made from raw values by
/// x[c] = (raw[c] / divisor - mean[c]) / std[c] in float32 (mean and std empty: no
/// normalisation). `raw` says what the raw values are ("uint8 pixels", "float32 values
/// as stored"), and `preprocessing` how a raw file becomes them (image decoding and
/// resizing; null when the raw values are the stored arrays).
nlohmann::json input_contract(const at::Tensor& images, const std::string& raw, double divisor,
                              const std::vector<double>& mean, const std::vector<double>& std,
                              nlohmann::json preprocessing = nullptr);

/// One minibatch.
struct Batch {
  torch::Tensor images;
  torch::Tensor labels;
};

/// The dataset in minibatches of `batch_size` (the last may be smaller), shuffled with
/// `rng` when it is given. All in memory: a streamed dataset is read whole (data::Loader
/// streams it batch by batch).
std::vector<Batch> batches(const Dataset& data, int64_t batch_size, Rng* rng = nullptr);

/// The order batches() and data::Loader visit `n` samples in: 0..n-1, shuffled by `rng`.
std::vector<int64_t> visit_order(int64_t n, Rng* rng);

}  // namespace hwnas::data

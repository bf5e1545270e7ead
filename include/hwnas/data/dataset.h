#pragma once
// An in-memory image classification dataset and seeded batching.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "hwnas/core/random.h"

namespace hwnas::data {

struct Dataset {
  /// N x C x H x W, float32.
  torch::Tensor images;
  /// N, int64 class indices in [0, num_classes).
  torch::Tensor labels;
  int64_t num_classes = 0;
  std::string name;

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  /// The samples at these indices (a copy).
  Dataset subset(const std::vector<int64_t>& indices) const;
  /// Samples [begin, end).
  Dataset slice(int64_t begin, int64_t end) const;
};

/// Splits into (train, validation) with `validation_fraction` of the samples in the
/// second part, after a seeded shuffle.
std::pair<Dataset, Dataset> split(const Dataset& data, double validation_fraction, uint64_t seed);

/// One minibatch.
struct Batch {
  torch::Tensor images;
  torch::Tensor labels;
};

/// The dataset in minibatches of `batch_size` (the last may be smaller), shuffled with
/// `rng` when it is given.
std::vector<Batch> batches(const Dataset& data, int64_t batch_size, Rng* rng = nullptr);

}  // namespace hwnas::data

#pragma once
// A small, learnable synthetic dataset for fast tests: each class has a random template
// image; a sample is its class template plus Gaussian noise. Deterministic given a seed.
#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"

namespace hwnas::data {

/// Example:
///   auto d = make_synthetic(SyntheticOptions().samples(256).size(16).seed(1));
struct SyntheticOptions {
  HWNAS_ARG(int64_t, samples) = 256;
  HWNAS_ARG(int64_t, channels) = 1;
  /// Height and width.
  HWNAS_ARG(int64_t, size) = 28;
  HWNAS_ARG(int64_t, classes) = 10;
  /// Standard deviation of the noise around the class templates.
  HWNAS_ARG(double, noise) = 0.5;
  HWNAS_ARG(uint64_t, seed) = 0;
  /// Samples of the test stream: the same class templates, other samples (the first
  /// `samples` of a stream either way, so a larger set extends a smaller one).
  HWNAS_ARG(bool, test) = false;
};

Dataset make_synthetic(const SyntheticOptions& options = {});

}  // namespace hwnas::data

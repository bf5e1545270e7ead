#pragma once
// Batches of a dataset, in memory or streamed, read and augmented by worker threads into a
// bounded queue, in a seeded order:
//
//   data::Loader loader(train, data::LoaderOptions().batch_size(96).shuffle(true).seed(epoch_seed)
//                                  .augmentation(data::Augmentation().pad(4).flip(true)).workers(2));
//   for (data::Batch b; loader.next(b);) { ... }
//
// The batches are the same whatever the number of workers: the order comes from the seed,
// and each sample's augmentation from (seed, the sample's index), never from which thread
// read it. At most workers x prefetch batches are read ahead, which bounds the memory a
// streamed dataset takes.
#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/core/random.h"
#include "hwnas/data/dataset.h"

namespace hwnas::data {

/// Per-sample training augmentation.
struct Augmentation {
  /// Random crop of the sample padded by `pad` pixels on each side (0: none; -1: 1/14 of
  /// the shorter side, at least 1: small shifts).
  HWNAS_ARG(int64_t, pad) = 0;
  /// Random resized crop (Inception's): an area fraction in [resized_crop_min, 1] and an
  /// aspect ratio in [3/4, 4/3], resized back bilinearly (0: none).
  HWNAS_ARG(double, resized_crop_min) = 0;
  /// Horizontal flip with probability 1/2.
  HWNAS_ARG(bool, flip) = false;
  /// A square of this side set to the fill at a random centre (DeVries and Taylor 2017; 0: none).
  HWNAS_ARG(int64_t, cutout) = 0;
  /// Per-channel value of the padding and of cutout (empty: 0), e.g. the normalised value
  /// of a raw 0.
  HWNAS_ARG(std::vector<double>, fill);

 public:
  bool any() const { return pad() != 0 || resized_crop_min() > 0 || flip() || cutout() > 0; }
  /// ConfigError naming the field.
  void validate() const;
  /// {"pad", "resized_crop_min", "flip", "cutout"}.
  nlohmann::json to_json() const;
  /// Reads the same fields (unknown ones are errors, named with `what`).
  static Augmentation from_json(const nlohmann::json& j, const std::string& what);
};

/// One C x H x W sample augmented, drawing from `rng` in a fixed order (resized crop,
/// padded crop, flip, cutout), as float32.
at::Tensor augment_sample(const at::Tensor& sample, const Augmentation& a, Rng& rng);
/// The same written into `out` (C x H x W float32, contiguous, not overlapping `sample`).
void augment_into(const at::Tensor& sample, const Augmentation& a, Rng& rng, at::Tensor& out);

struct LoaderOptions {
  HWNAS_ARG(int64_t, batch_size) = 64;
  /// Visit the samples in the order the seed shuffles (visit_order), else in order.
  HWNAS_ARG(bool, shuffle) = false;
  HWNAS_ARG(uint64_t, seed) = 0;
  HWNAS_ARG(Augmentation, augmentation);
  /// Threads reading and augmenting samples (0: the calling thread does).
  HWNAS_ARG(int64_t, workers) = 0;
  /// Batches each worker may have read ahead.
  HWNAS_ARG(int64_t, prefetch) = 2;
  /// Stop after this many batches (0: the whole epoch).
  HWNAS_ARG(int64_t, max_batches) = 0;

 public:
  void validate() const;
};

class Loader {
 public:
  Loader(Dataset data, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t num_batches() const;
  /// The next batch; false after the last. Rethrows what a worker met (a file that cannot
  /// be decoded names itself).
  bool next(Batch& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace hwnas::data

#pragma once
// Tensor files: what Python's torch.save({"images": N x C x H x W, "labels": N}, path)
// writes (the zip format, pickle protocols 2 to 4), and save_tensor_file writes the same
// from C++. hwnas reads them with its own checked reader (src/data/torch_file.h), not
// LibTorch's unpickler. A file is read whole into memory, so one larger than `max_bytes`
// is refused with that reason (use npy files, which are memory-mapped, or an image
// folder for more).
#include <cstdint>
#include <string>

#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"

namespace hwnas::data {

struct TensorFileOptions {
  /// images: uint8 (0..255, scaled to [0, 1]) or floating point (as stored), N x C x H x W
  /// or N x H x W (one channel); labels: N whole numbers in an integer type.
  HWNAS_ARG(std::string, path);
  /// Keep the first `limit` samples (0: all).
  HWNAS_ARG(int64_t, limit) = 0;
  /// Labels are 0 .. classes-1 (0: from the largest label of this file).
  HWNAS_ARG(int64_t, classes) = 0;
  /// Files above this size are refused before reading.
  HWNAS_ARG(int64_t, max_bytes) = int64_t{4} << 30;
};

/// Throws DataError naming the file: not a torch.save file, too large, no "images" or
/// "labels", wrong dtypes or dimensions, images and labels of different counts, labels out
/// of range.
Dataset load_tensor_file(const TensorFileOptions& options);

/// Writes {"images": uint8 or float images, "labels": int64 labels} as torch.save does
/// (Python's torch.load reads it), atomically.
void save_tensor_file(const std::string& path, const at::Tensor& images, const at::Tensor& labels);

}  // namespace hwnas::data

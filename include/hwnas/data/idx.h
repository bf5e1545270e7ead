#pragma once
// IDX files (the MNIST family's format: big-endian header, unsigned bytes), gzip-compressed
// or not, and datasets made of them: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"

namespace hwnas::data {

/// Reads one gzipped (or plain) IDX file of unsigned bytes: returns the dimensions its
/// header declares and fills `bytes` with the first `limit` items (0: all). The whole
/// file is always read, so damaged compressed data (a gzip CRC error) anywhere in it, data
/// beyond what the header declares, and a header promising more than the file can hold
/// are refused. `expected_dims` is 3 for images, 1 for labels. Errors name the file and end
/// with `hint`, what the user can do (empty: a generic one).
std::vector<int64_t> read_idx_file(const std::string& path, int expected_dims, std::vector<uint8_t>& bytes,
                                   int64_t limit = 0, const std::string& hint = "");

struct IdxDatasetOptions {
  /// The folder holding the four files.
  HWNAS_ARG(std::string, root);
  /// The training files (train-*) or the test files (t10k-*).
  HWNAS_ARG(bool, train) = true;
  /// Keep only the first `limit` samples (0: all).
  HWNAS_ARG(int64_t, limit) = 0;
  /// Labels are 0 .. classes-1.
  HWNAS_ARG(int64_t, classes) = 10;
  /// Scale to [0, 1], then (if normalize) subtract mean and divide by std.
  HWNAS_ARG(bool, normalize) = true;
  HWNAS_ARG(double, mean) = 0.0;
  HWNAS_ARG(double, std) = 1.0;
  /// Dataset name ("<name>/train" or "<name>/test") and what an error tells the user to do.
  HWNAS_ARG(std::string, name) = "idx";
  HWNAS_ARG(std::string, hint);
};

Dataset load_idx_dataset(const IdxDatasetOptions& options);

}  // namespace hwnas::data

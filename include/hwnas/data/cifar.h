#pragma once
// CIFAR-10 and CIFAR-100 in their published binary form (Krizhevsky 2009,
// https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records of label byte(s) then
// 3 x 32 x 32 pixel bytes, channel-major (the red plane, then green, then blue), rows top
// to bottom.
//   CIFAR-10:  data_batch_1.bin ... data_batch_5.bin (training), test_batch.bin; records
//              of 1 + 3072 bytes.
//   CIFAR-100: train.bin, test.bin; records of 2 + 3072 bytes (coarse label, fine label).
#include <cstdint>
#include <string>

#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"

namespace hwnas::data {

struct CifarOptions {
  /// The folder holding the .bin files (e.g. cifar-10-batches-bin/).
  HWNAS_ARG(std::string, root);
  /// 10 or 100.
  HWNAS_ARG(int64_t, classes) = 10;
  /// CIFAR-100: the 100 fine labels (true) or the 20 coarse superclasses (false).
  HWNAS_ARG(bool, fine_labels) = true;
  /// The training records or the test records.
  HWNAS_ARG(bool, train) = true;
  /// Keep only the first `limit` samples (0: all), in file order.
  HWNAS_ARG(int64_t, limit) = 0;
  /// Scale to [0, 1], then standardise each channel with the training set's published
  /// statistics (CIFAR-10 mean 0.4914 0.4822 0.4465, std 0.2470 0.2435 0.2616; CIFAR-100
  /// mean 0.5071 0.4865 0.4409, std 0.2673 0.2564 0.2762).
  HWNAS_ARG(bool, normalize) = true;
};

/// N x 3 x 32 x 32 float images and their labels. Throws DataError naming the file when one
/// is missing, its size is not a whole number of records, or a label is out of range.
Dataset load_cifar(const CifarOptions& options);

}  // namespace hwnas::data

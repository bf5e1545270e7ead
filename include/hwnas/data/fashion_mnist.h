#pragma once
// Fashion-MNIST (Xiao et al. 2017) from gzipped IDX files, as Debian's
// `dataset-fashion-mnist` package installs them under /usr/share/datasets/fashion-mnist.
#include <string>

#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"
#include "hwnas/data/idx.h"  // read_idx_file

namespace hwnas::data {

/// Options of load_fashion_mnist.
///
/// Example:
///   auto train = load_fashion_mnist(FashionMnistOptions().limit(1000));
///   auto test = load_fashion_mnist(FashionMnistOptions().train(false));
struct FashionMnistOptions {
  /// Folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz; empty: the environment
  /// variable HWNAS_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist.
  HWNAS_ARG(std::string, root);
  /// The 60,000 training images (true) or the 10,000 test images (false).
  HWNAS_ARG(bool, train) = true;
  /// Keep only the first `limit` samples (0: all).
  HWNAS_ARG(int64_t, limit) = 0;
  /// Scale to [0, 1] then standardise with the training set's mean 0.2860 and std 0.3530.
  HWNAS_ARG(bool, normalize) = true;
};

/// The folder load_fashion_mnist reads when no root is given.
std::string default_fashion_mnist_root();

/// Loads the images (N x 1 x 28 x 28 float) and labels. Throws DataError naming the file
/// and the fault (missing, not gzip, wrong IDX magic number, truncated, counts disagree),
/// with how to install the data.
Dataset load_fashion_mnist(const FashionMnistOptions& options = {});

}  // namespace hwnas::data

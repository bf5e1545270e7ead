#pragma once
// Building blocks shared by the built-in spaces' networks and supernets.
#include <functional>
#include <memory>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include "hwnas/core/options.h"
#include "hwnas/core/search_space.h"

namespace hwnas::nn {

/// A module with one input and one output.
class Op : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

/// Options of ConvBn: conv (no bias) followed by BatchNorm, optionally preceded by ReLU.
///
/// Example:
///   auto op = std::make_shared<ConvBn>(ConvBnOptions(16, 32, 3).stride(2).relu_first(true));
struct ConvBnOptions {
  ConvBnOptions(int64_t in_channels, int64_t out_channels, int64_t kernel)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_(kernel) {}
  HWNAS_ARG(int64_t, in_channels);
  HWNAS_ARG(int64_t, out_channels);
  HWNAS_ARG(int64_t, kernel);
  HWNAS_ARG(int64_t, stride) = 1;
  HWNAS_ARG(int64_t, dilation) = 1;
  HWNAS_ARG(int64_t, groups) = 1;
  /// ReLU before the conv (NAS-Bench-201 / DARTS "ReLUConvBN").
  HWNAS_ARG(bool, relu_first) = false;
  /// BatchNorm settings (momentum, eps, running statistics).
  HWNAS_ARG(BuildOptions, bn) = BuildOptions();
};

/// [ReLU] -> Conv2d(bias=false, padding = dilation*(kernel-1)/2) -> BatchNorm2d.
class ConvBn : public Op {
 public:
  explicit ConvBn(const ConvBnOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;
  /// The op on the first `channels` input and output channels of its weights (x has
  /// `channels` channels; groups 1 only), as PC-DARTS' partial channel edges run it.
  torch::Tensor forward_sliced(const torch::Tensor& x, int64_t channels);

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  bool relu_first_;
};

/// Average or max pooling, padding (k-1)/2, average excludes padding.
class Pool : public Op {
 public:
  enum class Kind { kAvg, kMax };
  Pool(Kind kind, int64_t kernel, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  Kind kind_;
  int64_t kernel_, stride_;
};

class Identity : public Op {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return x; }
};

/// Zeros of the output shape (the "none" op); strides spatially like its siblings.
class Zero : public Op {
 public:
  explicit Zero(int64_t stride = 1) : stride_(stride) {}
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  int64_t stride_;
};

/// BatchNorm over the first `channels` channels of `bn` (updating those running
/// statistics in training mode); bn.forward(x) when that is all of them.
torch::Tensor sliced_batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x, int64_t channels,
                                bool training);

/// What the profiler runs for one layer (a layer kind's build_runner): `op`, put in eval
/// mode, on a fixed random batch of `batch` inputs of shape `input`, without gradients.
std::function<void()> eval_runner(std::shared_ptr<Op> op, const Shape& input, int64_t batch);

/// BatchNorm options as LibTorch wants them.
torch::nn::BatchNorm2dOptions batch_norm_options(int64_t channels, const BuildOptions& bn);

}  // namespace hwnas::nn

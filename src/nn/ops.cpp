#include "hwnas/nn/ops.h"

#include <torch/nn/functional/pooling.h>
#include <torch/torch.h>

#include "hwnas/core/error.h"
#include "hwnas/nn/network.h"

namespace hwnas::nn {

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

torch::nn::BatchNorm2dOptions batch_norm_options(int64_t channels, const BuildOptions& bn) {
  return torch::nn::BatchNorm2dOptions(channels)
      .momentum(bn.bn_momentum())
      .eps(bn.bn_eps())
      .track_running_stats(bn.track_running_stats());
}

ConvBn::ConvBn(const ConvBnOptions& o) : relu_first_(o.relu_first()) {
  HWNAS_CHECK_T(ConfigError, o.kernel() % 2 == 1, "Expected an odd kernel size, but got ",
                o.kernel());
  HWNAS_CHECK_T(ConfigError, o.in_channels() % o.groups() == 0 && o.out_channels() % o.groups() == 0,
                "Channels ", o.in_channels(), "->", o.out_channels(), " do not divide into ",
                o.groups(), " groups");
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels(), o.out_channels(), o.kernel())
                                    .stride(o.stride())
                                    .padding(o.dilation() * (o.kernel() - 1) / 2)
                                    .dilation(o.dilation())
                                    .groups(o.groups())
                                    .bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(batch_norm_options(o.out_channels(), o.bn())));
}

torch::Tensor ConvBn::forward(const torch::Tensor& x) {
  return bn->forward(conv->forward(relu_first_ ? torch::relu(x) : x));
}

torch::Tensor ConvBn::forward_sliced(const torch::Tensor& x, int64_t channels) {
  const auto& o = conv->options;
  if (channels == o.out_channels() && channels == o.in_channels()) return forward(x);
  HWNAS_CHECK_T(ConfigError, o.groups() == 1 && channels <= o.in_channels() && channels <= o.out_channels(),
                "ConvBn of ", o.in_channels(), "->", o.out_channels(), " channels (groups ", o.groups(),
                ") cannot run on ", channels, " channels");
  const auto k = (*o.kernel_size())[0];
  auto w = conv->weight.narrow(0, 0, channels).narrow(1, 0, channels);
  auto h = torch::conv2d(relu_first_ ? torch::relu(x) : x, w, torch::Tensor(), *o.stride(),
                         o.dilation()->at(0) * (k - 1) / 2, *o.dilation());
  return sliced_batch_norm(*bn, h, channels, is_training());
}

torch::Tensor sliced_batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x, int64_t c, bool training) {
  if (c == bn.options.num_features()) return bn.forward(x);
  double factor = 0.0;
  const bool track = bn.options.track_running_stats();
  if (training && track) {
    bn.num_batches_tracked.add_(1);
    factor = bn.options.momentum().has_value() ? *bn.options.momentum()
                                               : 1.0 / bn.num_batches_tracked.item<double>();
  }
  return torch::batch_norm(x, bn.weight.narrow(0, 0, c), bn.bias.narrow(0, 0, c),
                           track ? bn.running_mean.narrow(0, 0, c) : torch::Tensor(),
                           track ? bn.running_var.narrow(0, 0, c) : torch::Tensor(),
                           training || !track, factor, bn.options.eps(), /*cudnn_enabled=*/false);
}

Pool::Pool(Kind kind, int64_t kernel, int64_t stride) : kind_(kind), kernel_(kernel), stride_(stride) {}

torch::Tensor Pool::forward(const torch::Tensor& x) {
  const int64_t pad = (kernel_ - 1) / 2;
  if (kind_ == Kind::kAvg)
    return torch::avg_pool2d(x, {kernel_, kernel_}, {stride_, stride_}, {pad, pad},
                             /*ceil_mode=*/false, /*count_include_pad=*/false);
  return torch::max_pool2d(x, {kernel_, kernel_}, {stride_, stride_}, {pad, pad});
}

torch::Tensor Zero::forward(const torch::Tensor& x) {
  if (stride_ == 1) return torch::zeros_like(x);
  using torch::indexing::None;
  using torch::indexing::Slice;
  return torch::zeros_like(x.index({Slice(), Slice(), Slice(None, None, stride_),
                                     Slice(None, None, stride_)}));
}

std::function<void()> eval_runner(std::shared_ptr<Op> op, const Shape& input, int64_t batch) {
  op->eval();
  auto x = torch::randn({batch, input.c, input.h, input.w});
  return [op, x] {
    torch::NoGradGuard no_grad;
    op->forward(x);
  };
}

}  // namespace hwnas::nn

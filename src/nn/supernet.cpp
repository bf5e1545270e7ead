#include "hwnas/nn/supernet.h"

#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas::nn {

torch::Tensor Supernet::forward(const torch::Tensor& x, const Arch& arch) {
  space().validate(arch);
  return do_forward(x, arch.genes());
}

std::shared_ptr<Network> Supernet::extract(const Arch& arch, const BuildOptions& options) {
  auto net = space().build(arch, options);
  copy_shared_weights(*this, *net);
  net->train(is_training());
  return net;
}

torch::Tensor shared_slice(const torch::Tensor& weight, at::IntArrayRef shape) {
  HWNAS_INTERNAL_ASSERT(weight.dim() == static_cast<int64_t>(shape.size()), "cannot slice a ",
                        weight.dim(), "-d tensor to ", shape.size(), " dims");
  torch::Tensor out = weight;
  for (int64_t d = 0; d < weight.dim(); ++d) {
    const int64_t have = weight.size(d), want = shape[static_cast<size_t>(d)];
    HWNAS_INTERNAL_ASSERT(want <= have, "cannot slice size ", have, " to ", want, " in dim ", d);
    if (want == have) continue;
    const bool centre = weight.dim() == 4 && d >= 2;
    if (centre) HWNAS_INTERNAL_ASSERT((have - want) % 2 == 0, "kernel ", have, " has no centre ", want);
    out = out.narrow(d, centre ? (have - want) / 2 : 0, want);
  }
  return out;
}

void copy_shared_weights(const torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto source_params = from.named_parameters(/*recurse=*/true);
  auto source_buffers = from.named_buffers(/*recurse=*/true);
  auto copy = [](const auto& source, const std::string& name, torch::Tensor& target) {
    const torch::Tensor* src = source.find(name);
    HWNAS_INTERNAL_ASSERT(src != nullptr, "the supernet has no tensor '", name,
                          "' for the standalone model");
    if (target.dim() == 0) {
      target.copy_(*src);
      return;
    }
    target.copy_(shared_slice(*src, target.sizes()));
  };
  for (auto& item : to.named_parameters(true)) copy(source_params, item.key(), item.value());
  for (auto& item : to.named_buffers(true)) copy(source_buffers, item.key(), item.value());
}

}  // namespace hwnas::nn

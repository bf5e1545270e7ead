#pragma once
// Weight-sharing supernets: one module holding the weights of every architecture of a
// space, run on a single path with forward(x, arch).
//
// Sharing follows the published methods: cell spaces (nb201, darts) keep one weight set
// per (edge, op); chain spaces (mobilenet, ofa) share like Once-for-All and Single-Path
// NAS: the largest kernel with its centre slice for smaller kernels, the first channels
// for smaller expand ratios, the first blocks for smaller depths.
//
// extract(arch) builds the standalone model of the arch (SearchSpace::build) and copies
// the shared weights into it, so that in eval mode its output equals forward(x, arch).
#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "hwnas/core/search_space.h"
#include "hwnas/nn/network.h"

namespace hwnas::nn {

class Supernet : public torch::nn::Module {
 public:
  /// The space whose archs this supernet runs.
  virtual const SearchSpace& space() const = 0;

  /// Logits of `arch`'s path; throws InvalidArchError if the arch is not of this space.
  torch::Tensor forward(const torch::Tensor& x, const Arch& arch);

  /// A standalone model of `arch` holding a copy of its shared weights and BN statistics.
  std::shared_ptr<Network> extract(const Arch& arch, const BuildOptions& options = {});

 protected:
  virtual torch::Tensor do_forward(const torch::Tensor& x, const std::vector<int>& genes) = 0;
};

/// Copies every parameter and buffer of `to` from the same-named tensor of `from`, slicing
/// the source to the target's shape: the first entries along every dimension, except the
/// spatial dimensions (2 and 3) of 4-d weights, which take the centre (a 3x3 kernel is the
/// centre of a 7x7 one). Throws InternalError if a name is missing or a shape cannot be
/// sliced (the two modules do not correspond).
void copy_shared_weights(const torch::nn::Module& from, torch::nn::Module& to);

/// The slice of `weight` of shape `shape` as copy_shared_weights takes it (a view).
torch::Tensor shared_slice(const torch::Tensor& weight, at::IntArrayRef shape);

}  // namespace hwnas::nn

#pragma once
// Analytic costs of a network from its LayerSpecs: parameters and multiply-accumulates.
//
// MACs count the multiply-accumulates of convolutions and linear layers (the convention
// of NAS-Bench-201, ProxylessNAS and OFA papers); BatchNorm, activations, pooling and
// additions count 0 MACs. Parameters count every learnable scalar, BatchNorm affine
// weights included, exactly as LibTorch's module.parameters() does. Each layer kind gives
// its own formulas (hwnas/cost/layer_kind.h).
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/core/layer_spec.h"
#include "hwnas/cost/layer_kind.h"

namespace hwnas::cost {

struct NetworkCost {
  int64_t params = 0;
  int64_t macs = 0;
  /// The largest LayerCost::activations over the layers, per sample.
  int64_t peak_activations = 0;
  std::vector<LayerCost> layers;  // one per input LayerSpec, same order

  /// Peak activation memory of layer-by-layer inference for `batch` samples of
  /// `bytes_per_element` (4 for float32, 2 for float16, 1 for int8). Tensors kept alive
  /// across layers (skip connections, cell inputs) beyond a layer's own input are not
  /// included: this is the working set of a sequential executor.
  int64_t peak_activation_bytes(int64_t batch = 1, int64_t bytes_per_element = 4) const {
    return peak_activations * batch * bytes_per_element;
  }
};

/// Cost of one layer, from its kind (layer_kind_registry()); throws NotFoundError listing
/// the known kinds for an unknown kind.
LayerCost layer_cost(const LayerSpec& layer);

/// Sum over the layers.
NetworkCost network_cost(const std::vector<LayerSpec>& layers);

}  // namespace hwnas::cost

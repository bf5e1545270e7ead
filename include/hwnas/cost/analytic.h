#pragma once
// Analytic costs of a network from its LayerSpecs: parameters and multiply-accumulates.
//
// MACs count the multiply-accumulates of convolutions and linear layers (the convention
// of NAS-Bench-201, ProxylessNAS and OFA papers); BatchNorm, activations, pooling and
// additions count 0 MACs. Parameters count every learnable scalar, BatchNorm affine
// weights included, exactly as LibTorch's module.parameters() does.
#include <cstdint>
#include <string>
#include <vector>

#include "hwnas/core/layer_spec.h"

namespace hwnas::cost {

struct LayerCost {
  int64_t params = 0;
  int64_t macs = 0;
};

struct NetworkCost {
  int64_t params = 0;
  int64_t macs = 0;
  std::vector<LayerCost> layers;  // one per input LayerSpec, same order
};

/// Cost of one layer; throws NotFoundError listing the known kinds for an unknown kind.
LayerCost layer_cost(const LayerSpec& layer);

/// Sum over the layers.
NetworkCost network_cost(const std::vector<LayerSpec>& layers);

/// The layer kinds this cost model knows, sorted.
std::vector<std::string> known_layer_kinds();

}  // namespace hwnas::cost

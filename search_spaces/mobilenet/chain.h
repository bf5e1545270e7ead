#pragma once
// Chains of inverted-residual (MBConv) blocks: the concrete-network description shared by
// the mobile chain space (ProxylessNAS, FBNet, MobileNetV2 layouts) and the Once-for-All
// MobileNetV3 space, with its layer specs, standalone network and weight-sharing supernet.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hwnas/core/layer_spec.h"
#include "hwnas/core/search_space.h"

namespace hwnas::nn {
class Op;  // hwnas/nn/ops.h
}

namespace hwnas::spaces {

/// Activation codes, as stored in LayerSpec attribute "act".
enum class Act : int { kNone = 0, kRelu = 1, kRelu6 = 2, kHswish = 3 };
Act parse_act(const std::string& name);  // "none", "relu", "relu6", "hswish"
std::string act_name(Act act);

/// MobileNet's channel rounding: to a multiple of `divisor`, not below 90% of v.
int64_t make_divisible(double v, int64_t divisor = 8);

/// One MBConv block of a concrete network: [1x1 expand conv, BN, act] (when `expand_conv`),
/// depthwise kxk conv with stride, BN, act, [squeeze-excite], 1x1 projection conv, BN,
/// [+ input when `residual`]. Pointwise convs use `groups` groups.
struct BlockSpec {
  std::string slot;  // stable name of the block's position, e.g. "s2b1"
  int64_t in = 0, out = 0, kernel = 3, stride = 1, mid = 0, groups = 1;
  int64_t se_mid = 0;  // squeeze-excite hidden channels (0: no SE)
  Act act = Act::kRelu6;
  bool expand_conv = true;
  bool residual = false;
};

/// A concrete chain network.
struct ChainNet {
  int64_t input_channels = 3;
  int64_t stem_channels = 32, stem_kernel = 3, stem_stride = 2;
  Act stem_act = Act::kRelu6;
  std::vector<BlockSpec> blocks;          // the active blocks, in order
  int64_t final_channels = 0;             // 1x1 conv + BN + act before pooling (0: none)
  Act final_act = Act::kRelu6;
  int64_t mix_channels = 0;               // 1x1 conv (no BN) + act after pooling (0: none)
  Act mix_act = Act::kHswish;
  int64_t num_classes = 1000;
  double dropout = 0;
};

/// Layer specs: "conv_bn_act" (stem, final expand), "mbconv" per block (attributes k, s,
/// mid, g, se, act, pw, res), "global_avg_pool", "conv_act" (feature mix), "linear".
std::vector<LayerSpec> chain_layers(const ChainNet& net, const Shape& input);

/// The standalone network.
std::shared_ptr<nn::Network> build_chain(const ChainNet& net, const BuildOptions& options);

/// A supernet for a chain space. `largest` holds, for every block slot and group count the
/// space can use, the block at its largest kernel and mid channels; `active` maps genes to
/// the concrete network whose blocks are run on the shared weights.
std::shared_ptr<nn::Supernet> build_chain_supernet(
    std::shared_ptr<const SearchSpace> space, const ChainNet& largest,
    std::function<ChainNet(const std::vector<int>&)> active, const BuildOptions& options);

/// The decisions of a chain space whose every searchable block picks one candidate: after
/// the stem and the `fixed` blocks, slot i runs option k as options[i][k] (std::nullopt: a
/// skip, the identity), where allowed[i][k].
struct MixedChain {
  std::vector<BlockSpec> fixed;
  std::vector<std::vector<std::optional<BlockSpec>>> options;
  std::vector<std::vector<bool>> allowed;
};

/// A chain supernet that is also an nn::MixedSupernet (hwnas/nn/mixed.h) over `mixed`'s
/// decisions, which must be the space's choices.
std::shared_ptr<nn::Supernet> build_mixed_chain_supernet(
    std::shared_ptr<const SearchSpace> space, const ChainNet& largest,
    std::function<ChainNet(const std::vector<int>&)> active, MixedChain mixed, const BuildOptions& options);

/// Registers the "mbconv" layer kind (cost/layer_kind.h): its analytic cost and a
/// standalone module for profiling. Called once by register_builtin_layer_kinds().
void register_mbconv_layer_kind();

}  // namespace hwnas::spaces

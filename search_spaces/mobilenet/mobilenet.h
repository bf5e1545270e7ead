#pragma once
// The mobile chain space: stages of inverted-residual blocks where every block chooses an
// MBConv candidate (kernel, expand ratio, groups) or, where the shape allows, a skip.
// Layout, candidates, activations and squeeze-excite are configuration; presets:
//   proxyless    ProxylessNAS (Cai et al. 2019): MobileNetV2-style backbone, 6 stages
//                (24,40,80,96,192,320 ch; 4,4,4,4,4,1 blocks), candidates k{3,5,7} x e{3,6} + skip
//   fbnet        FBNet (Wu et al. 2019) macro space, 7 searchable stages, 9 candidates
//                k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6, skip
//   mobilenetv2  MobileNetV2 1.0's exact layout with the proxyless candidates; the arch with
//                every block k3_e6 is MobileNetV2 (3,504,872 params at 224x224, 1000 classes)
//
// Canonical string: the candidates of each stage's blocks joined by ',', stages joined by
// ':', e.g. "k3_e3:k5_e6,skip,skip,k3_e3:...".
#include <string>
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/mobilenet/chain.h"

namespace hwnas::spaces {

/// One candidate op of a searchable block: "k<kernel>_e<expand>[_g<groups>]" or "skip".
struct Candidate {
  std::string name;
  bool skip = false;
  int64_t kernel = 3, expand = 6, groups = 1;
  static Candidate parse(const std::string& name);
};

struct ChainStage {
  int64_t channels = 0, blocks = 1, stride = 1;
  Act act = Act::kRelu6;
  bool se = false;
};

/// The space's options. Read from JSON: {"preset": "proxyless", ...overrides} with keys
/// input_channels, input_size, num_classes, dropout, stem {channels, kernel, stride, act},
/// first_block {channels, kernel, expand, act, se} or null, stages [{channels, blocks,
/// stride, act, se}], candidates [names], head {channels, act} or null, feature_mix
/// {channels, act} or null. In C++, start from a preset and change what differs:
///
///   MobileNetSpace space(MobileNetOptions::from_preset("fbnet").input_channels(1).input_size(28).num_classes(10));
struct MobileNetOptions {
  HWNAS_ARG(std::string, preset) = "proxyless";
  HWNAS_ARG(int64_t, input_channels) = 3;
  HWNAS_ARG(int64_t, input_size) = 224;
  HWNAS_ARG(int64_t, num_classes) = 1000;
  /// Dropout before the classifier.
  HWNAS_ARG(double, dropout) = 0;
  HWNAS_ARG(int64_t, stem_channels) = 32;
  HWNAS_ARG(int64_t, stem_kernel) = 3;
  HWNAS_ARG(int64_t, stem_stride) = 2;
  HWNAS_ARG(Act, stem_act) = Act::kRelu6;
  HWNAS_ARG(bool, has_first_block) = true;
  /// The fixed block after the stem (in/out/kernel/mid/act/se_mid).
  HWNAS_ARG(BlockSpec, first_block);
  HWNAS_ARG(std::vector<ChainStage>, stages);
  HWNAS_ARG(std::vector<Candidate>, candidates);
  /// Channels of the 1x1 conv after the last stage; 0: none.
  HWNAS_ARG(int64_t, head_channels) = 1280;
  HWNAS_ARG(Act, head_act) = Act::kRelu6;
  /// Channels of the feature-mix conv after pooling (MobileNetV3); 0: none.
  HWNAS_ARG(int64_t, mix_channels) = 0;
  HWNAS_ARG(Act, mix_act) = Act::kHswish;

 public:
  /// A preset's full layout ("proxyless", "fbnet", "mobilenetv2"); throws ConfigError naming the presets.
  static MobileNetOptions from_preset(const std::string& name);
  /// The JSON config's rules (ranges, odd kernels, non-empty stages and candidates); throws ConfigError.
  void validate() const;
  static MobileNetOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class MobileNetSpace : public SearchSpace {
 public:
  explicit MobileNetSpace(MobileNetOptions options = MobileNetOptions::from_preset("proxyless"));

  std::string name() const override { return "mobilenet"; }
  std::string description() const override;
  nlohmann::json config() const override { return options_.to_json(); }
  const std::vector<Choice>& choices() const override { return choices_; }
  Shape input_shape() const override;
  double size() const override;
  const MobileNetOptions& options() const { return options_; }

  /// The fixed layers before the blocks, each block (its own candidate) and the head.
  std::vector<LayerPart> layer_parts() const override;
  /// The concrete network of valid genes.
  ChainNet network(const std::vector<int>& genes) const;

 protected:
  std::string genes_to_string(const std::vector<int>& genes) const override;
  std::vector<int> parse_genes(const std::string& canonical) const override;
  Drawing do_drawing(const std::vector<int>& genes) const override;
  void check_rules(const std::vector<int>& genes) const override;
  std::vector<int> do_sample(Rng& rng) const override;
  std::vector<LayerSpec> do_layers(const std::vector<int>& genes, const Shape& input) const override;
  std::shared_ptr<nn::Network> do_build(const std::vector<int>& genes,
                                        const BuildOptions& options) const override;
  std::shared_ptr<nn::Supernet> do_supernet(const SupernetOptions& options) const override;
  void check_input_shape(const Shape& input) const override;
  std::vector<LayerSpec> do_layer_universe() const override;

 private:
  struct Slot {
    int stage, index;
    int64_t in, out, stride;
    bool skippable;  // stride 1 and in == out
  };
  // The block of slot i with a (non-skip) candidate.
  BlockSpec block(size_t i, const Candidate& cand) const;
  MobileNetOptions options_;
  std::vector<Slot> slots_;
  std::vector<Choice> choices_;
};

void register_mobilenet(SpaceRegistry& registry);

}  // namespace hwnas::spaces

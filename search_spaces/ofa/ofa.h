#pragma once
// The Once-for-All MobileNetV3 space (Cai et al., ICLR 2020): 5 stages of up to 4 blocks;
// each stage's depth d in {2, 3, 4}, each block's kernel in {3, 5, 7} and expand ratio in
// {3, 4, 6}, and the input resolution (default 128..224 step 4). Squeeze-excite in stages
// 2, 4, 5; h-swish in stages 3-5, the stem, the final expand and feature-mix layers.
//
// Archs are OFA's own JSON: {"ks": [20], "e": [20], "d": [5], "r": [1]}; the canonical
// string is that JSON, compact, with settings of blocks beyond a stage's depth set to 3.
// width_mult 1.2 is the network OFA's Note10 latency tables were measured for.
#include <string>
#include <vector>

#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/mobilenet/chain.h"

namespace hwnas::spaces {

/// Example: OfaSpace space(OfaOptions().width_mult(1.2));
struct OfaOptions {
  /// Width multiplier of the base widths 16, 16, 24, 40, 80, 112, 160, 960, 1280.
  HWNAS_ARG(double, width_mult) = 1.0;
  HWNAS_ARG(int64_t, num_classes) = 1000;
  /// The searchable input resolutions.
  HWNAS_ARG(std::vector<int64_t>, resolutions) = default_resolutions();

 public:
  static std::vector<int64_t> default_resolutions();  // 128, 132, ..., 224
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("width_mult", self.width_mult_, 0.1, 4.0);
    v.field("num_classes", self.num_classes_, 1, 1000000);
    v.field("resolutions", self.resolutions_, 32, 1024);
  }
  /// The ranges above and at least one resolution, in increasing order; throws ConfigError.
  void validate() const;
  static OfaOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class OfaSpace : public SearchSpace {
 public:
  static constexpr int kStages = 5, kMaxDepth = 4, kBlocks = kStages * kMaxDepth;
  static const std::vector<int64_t> kKernels, kExpands, kDepths;

  explicit OfaSpace(OfaOptions options = {});

  std::string name() const override { return "ofa"; }
  std::string description() const override;
  nlohmann::json config() const override { return options_.to_json(); }
  const std::vector<Choice>& choices() const override { return choices_; }
  Shape input_shape() const override;
  double size() const override;
  const OfaOptions& options() const { return options_; }

  /// The arch as OFA's dict {"ks", "e", "d", "r"}.
  nlohmann::json to_ofa_json(const Arch& arch) const;
  /// The concrete network of valid genes.
  ChainNet network(const std::vector<int>& genes) const;
  /// The key of a layer of this space in OFA's latency-table format, e.g.
  /// "expanded_conv-input:12x12x136-output:12x12x136-expand:408-kernel:3-stride:1-idskip:1-se:1-hs:1".
  static std::string ofa_lut_key(const LayerSpec& layer);

  /// OFA's encoding is by value (kernel, expand, resolution), the same for every config.
  std::string encoding_format() const override { return "ofa-v1: kernel and expand one-hot per block, resolution one-hot (r-112)/16"; }
  /// The stem and first block (the resolution), each block (its kernel, expand, its
  /// stage's depth and the resolution) and the head (the resolution).
  std::vector<LayerPart> layer_parts() const override;

 protected:
  std::string genes_to_string(const std::vector<int>& genes) const override;
  Drawing do_drawing(const std::vector<int>& genes) const override;
  std::vector<int> parse_genes(const std::string& canonical) const override;
  std::vector<int> genes_from_json(const nlohmann::json& j) const override;
  std::vector<int> canonicalize(std::vector<int> genes) const override;
  Shape arch_input_shape(const std::vector<int>& genes) const override;
  std::vector<LayerSpec> do_layers(const std::vector<int>& genes, const Shape& input) const override;
  std::vector<float> do_encode(const std::vector<int>& genes) const override;
  int64_t do_encoding_size() const override { return 128; }
  std::shared_ptr<nn::Network> do_build(const std::vector<int>& genes,
                                        const BuildOptions& options) const override;
  std::shared_ptr<nn::Supernet> do_supernet(const SupernetOptions& options) const override;
  void check_input_shape(const Shape& input) const override;
  std::vector<LayerSpec> do_layer_universe() const override;

 private:
  OfaOptions options_;
  std::vector<Choice> choices_;
  std::vector<int64_t> widths_;  // stem, first block, stages 1-5
  int64_t final_width_, last_width_;
};

void register_ofa(SpaceRegistry& registry);
/// Registers the "ofa" latency-table key format (OfaSpace::ofa_lut_key), the keys of tables
/// imported from Once-for-All (LatencyTable::from_ofa_yaml). Called by
/// register_builtin_layer_kinds().
void register_ofa_key_format();

}  // namespace hwnas::spaces

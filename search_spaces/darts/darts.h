#pragma once
// The DARTS cell space (Liu et al., ICLR 2019): a normal and a reduction cell, each with
// 4 intermediate nodes; node i takes two (op, input) pairs, inputs from the cell's two
// inputs (0, 1) or earlier nodes (2..i+1); 8 ops. Cells are stacked into the CIFAR network
// of the paper: stem 3x3 conv (3C), `layers` cells with reductions at 1/3 and 2/3 depth,
// global pooling, classifier, and an optional auxiliary head after the second reduction.
//
// Canonical string: the DARTS genotype, e.g.
//   Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
//            reduce=[('max_pool_3x3', 0), ...], reduce_concat=[2, 3, 4, 5])
// Genes: per cell (normal, then reduce), per node, per pair: op index, input index.
#include <array>
#include <string>
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/core/search_space.h"

namespace hwnas::nn {
class Op;  // hwnas/nn/ops.h
}

namespace hwnas::spaces {

/// Registers the DARTS layer kinds ("sep_conv", "dil_conv", "factorized_reduce",
/// "darts_aux_head"; cost/layer_kind.h). Called once by register_builtin_layer_kinds().
void register_darts_layer_kinds();

/// Example: DartsSpace space(DartsOptions().channels(16).layers(8));  // search-size network
struct DartsOptions {
  /// Initial channels C (the paper's CIFAR-10 evaluation network: 36).
  HWNAS_ARG(int64_t, channels) = 36;
  /// Number of cells (evaluation: 20; search: 8).
  HWNAS_ARG(int64_t, layers) = 20;
  HWNAS_ARG(int64_t, input_channels) = 3;
  /// Height and width of the input; divisible by 4.
  HWNAS_ARG(int64_t, input_size) = 32;
  HWNAS_ARG(int64_t, num_classes) = 10;
  /// Build the auxiliary classifier after the second reduction cell (needs an 8x8 map there).
  HWNAS_ARG(bool, auxiliary) = false;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("channels", self.channels_, 1, 4096);
    v.field("layers", self.layers_, 3, 200);
    v.field("input_channels", self.input_channels_, 1, 64);
    v.field("input_size", self.input_size_, 4, 4096);
    v.field("num_classes", self.num_classes_, 1, 1000000);
    v.field("auxiliary", self.auxiliary_);
  }
  /// The ranges above, input_size divisible by 4 and, with the auxiliary head, an 8x8 to
  /// 10x10 map after the second reduction; throws ConfigError naming the field.
  void validate() const;
  static DartsOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class DartsSpace : public SearchSpace {
 public:
  static constexpr int kNodes = 4;
  static const std::array<const char*, 8> kOps;
  /// The published DARTS (second order) genotype, "DARTS_V2".
  static const char* const kDartsV2;

  explicit DartsSpace(DartsOptions options = {});

  std::string name() const override { return "darts"; }
  std::string description() const override;
  nlohmann::json config() const override { return options_.to_json(); }
  const std::vector<Choice>& choices() const override { return choices_; }
  Shape input_shape() const override;
  double size() const override;
  const DartsOptions& options() const { return options_; }

 protected:
  std::string genes_to_string(const std::vector<int>& genes) const override;
  std::vector<int> parse_genes(const std::string& canonical) const override;
  Drawing do_drawing(const std::vector<int>& genes) const override;
  void check_rules(const std::vector<int>& genes) const override;
  std::vector<LayerSpec> do_layers(const std::vector<int>& genes, const Shape& input) const override;
  std::shared_ptr<nn::Network> do_build(const std::vector<int>& genes,
                                        const BuildOptions& options) const override;
  std::shared_ptr<nn::Supernet> do_supernet(const SupernetOptions& options) const override;
  void check_input_shape(const Shape& input) const override;
  std::vector<LayerSpec> do_layer_universe() const override;

 private:
  // For cell c (0 normal, 1 reduce), the (op, input) of pair k of node k/2.
  static int op_of(const std::vector<int>& genes, int c, int k) { return genes[static_cast<size_t>(c * 16 + k * 2)]; }
  static int input_of(const std::vector<int>& genes, int c, int k) { return genes[static_cast<size_t>(c * 16 + k * 2 + 1)]; }
  DartsOptions options_;
  std::vector<Choice> choices_;
};

void register_darts(SpaceRegistry& registry);

}  // namespace hwnas::spaces

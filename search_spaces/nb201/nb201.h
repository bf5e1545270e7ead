#pragma once
// NAS-Bench-201 (Dong & Yang, ICLR 2020): a cell of 4 nodes and 6 edges, each edge one of
// 5 ops, 5^6 = 15,625 architectures, stacked in the published macro skeleton:
// stem conv 3x3 (C) + BN, three stages of N cells (C, 2C, 4C) joined by residual
// reduction blocks, BN-ReLU, global average pooling, linear classifier.
//
// Canonical string (the official one), e.g.
//   |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|
// Node j (1..3) lists its inputs from nodes 0..j-1 in order, each as `op~input`.
// Genes: one op index per edge in the order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
#include <array>
#include <string>
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/core/search_space.h"

namespace hwnas::nn {
class Op;  // hwnas/nn/ops.h
}

namespace hwnas::spaces {

/// Registers the "nb201_resblock" layer kind (cost/layer_kind.h). Called once by
/// register_builtin_layer_kinds().
void register_nb201_layer_kinds();

/// Configuration of the NAS-Bench-201 space. Defaults reproduce the benchmark on CIFAR-10.
///
/// Example:
///   Nb201Space space(Nb201Options().input_channels(1).input_size(28));  // Fashion-MNIST
struct Nb201Options {
  /// Channels of the first stage (the benchmark: 16).
  HWNAS_ARG(int64_t, channels) = 16;
  /// Cells per stage, N (the benchmark: 5).
  HWNAS_ARG(int64_t, cells_per_stage) = 5;
  /// Channels of the input images.
  HWNAS_ARG(int64_t, input_channels) = 3;
  /// Height and width of the (square) input images; divisible by 4.
  HWNAS_ARG(int64_t, input_size) = 32;
  /// Number of classes of the classifier.
  HWNAS_ARG(int64_t, num_classes) = 10;
  /// Leave out the ops graph optimisers remove (ONNX Runtime, TensorRT): those whose result
  /// reaches the cell's output only through "none" edges, and those whose input node is
  /// always zero (its every input edge is "none"; such an op adds a constant at most). The
  /// layers and the network built agree. Off: the benchmark's parameter counts include them.
  HWNAS_ARG(bool, skip_dead_ops) = false;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("channels", self.channels_, 1, 4096);
    v.field("cells_per_stage", self.cells_per_stage_, 1, 64);
    v.field("input_channels", self.input_channels_, 1, 64);
    v.field("input_size", self.input_size_, 4, 4096);
    v.field("num_classes", self.num_classes_, 1, 1000000);
    v.flag("skip_dead_ops", self.skip_dead_ops_);  // written only when on
  }
  /// The ranges above and input_size divisible by 4; throws ConfigError naming the field.
  void validate() const;
  /// Unknown keys and out-of-range values throw ConfigError.
  static Nb201Options from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class Nb201Space : public SearchSpace {
 public:
  /// The op names, in the official order (gene value = index).
  static const std::array<const char*, 5> kOps;
  /// The edges as (to, from), in gene order.
  static const std::array<std::pair<int, int>, 6> kEdges;

  explicit Nb201Space(Nb201Options options = {});

  std::string name() const override { return "nb201"; }
  std::string description() const override;
  nlohmann::json config() const override;
  const std::vector<Choice>& choices() const override { return choices_; }
  Shape input_shape() const override;
  const Nb201Options& options() const { return options_; }

 protected:
  std::string genes_to_string(const std::vector<int>& genes) const override;
  std::vector<int> parse_genes(const std::string& canonical) const override;
  Drawing do_drawing(const std::vector<int>& genes) const override;
  std::vector<LayerSpec> do_layers(const std::vector<int>& genes,
                                   const Shape& input) const override;
  std::shared_ptr<nn::Network> do_build(const std::vector<int>& genes,
                                        const BuildOptions& options) const override;
  /// The genes with the ops skip_dead_ops leaves out set to "none" (unchanged when off).
  std::vector<int> live_genes(const std::vector<int>& genes) const;
  void check_input_shape(const Shape& input) const override;
  std::shared_ptr<nn::Supernet> do_supernet(const SupernetOptions& options) const override;

 private:
  Nb201Options options_;
  std::vector<Choice> choices_;
};

/// Registers "nb201" in the registry (done for the built-in registry automatically).
void register_nb201(SpaceRegistry& registry);

}  // namespace hwnas::spaces

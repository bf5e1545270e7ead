#pragma once
// SearchSpace: the contract every space (built-in or user-defined) implements.
//
// Public methods are non-virtual: they check their input (the arch belongs to this space,
// its genes are in range and valid), then call a protected hook. A new space implements
// the hooks only; see docs/search-spaces.md and examples/custom_space.cpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/core/arch.h"
#include "hwnas/core/drawing.h"
#include "hwnas/core/layer_spec.h"
#include "hwnas/core/options.h"
#include "hwnas/core/random.h"
#include "hwnas/core/registry.h"

namespace hwnas {
namespace nn {
class Network;   // hwnas/nn/network.h (includes LibTorch)
class Supernet;  // hwnas/nn/supernet.h (includes LibTorch)
}

/// One decision of a space: a name and its options. An arch holds one index per choice.
struct Choice {
  std::string name;
  std::vector<std::string> options;
};

/// Options for SearchSpace::build.
///
/// Example:
///   auto net = space.build(arch, hwnas::BuildOptions().bn_momentum(0.01));
struct BuildOptions {
  /// Keep BatchNorm running statistics (false: always use batch statistics).
  HWNAS_ARG(bool, track_running_stats) = true;
  /// BatchNorm momentum (PyTorch convention: weight of the new batch).
  HWNAS_ARG(double, bn_momentum) = 0.1;
  /// BatchNorm epsilon.
  HWNAS_ARG(double, bn_eps) = 1e-5;
  /// Dropout before the classifier (0 = none).
  HWNAS_ARG(double, dropout) = 0.0;
  /// Seed of the weight initialisation: build() and supernet() draw their initial weights
  /// from LibTorch's generator seeded with it (TorchSeedScope), so the same arch, options
  /// and seed give the same network in every process.
  HWNAS_ARG(uint64_t, seed) = 0;
};

/// Options for SearchSpace::supernet (BatchNorm settings as for standalone models).
struct SupernetOptions {
  HWNAS_ARG(BuildOptions, build) = BuildOptions();
};

/// A run of an arch's layers that a few of its genes decide (see SearchSpace::layer_parts).
struct LayerPart {
  /// Indices into choices().
  std::vector<int> genes;
  /// The run's layers when genes[i] has the option index values[i].
  std::function<std::vector<LayerSpec>(const std::vector<int>& values)> layers;
};

class SearchSpace {
 public:
  virtual ~SearchSpace() = default;

  /// Registry name, e.g. "nb201".
  virtual std::string name() const = 0;
  /// One-line description.
  virtual std::string description() const = 0;
  /// The configuration this space was made with (input size, classes, ...), as JSON.
  virtual nlohmann::json config() const = 0;
  /// The space's decisions; Arch::genes() holds one option index per choice.
  virtual const std::vector<Choice>& choices() const = 0;
  /// The shape of one input sample (for spaces that search the resolution: the largest).
  virtual Shape input_shape() const = 0;
  /// The input shape of this arch's network (differs from input_shape() only in spaces
  /// that search the resolution).
  Shape input_shape_of(const Arch& arch) const;
  /// Number of distinct architectures (as a double: some spaces exceed 2^64).
  virtual double size() const;

  // --- making archs -------------------------------------------------------------------
  /// The arch with these genes; throws InvalidArchError naming the gene and allowed values.
  Arch make(const std::vector<int>& genes) const;
  /// Parses the canonical string; throws ParseError naming the fault and position.
  Arch parse(const std::string& canonical) const;
  /// Reads Arch::to_json output (or a plain canonical string); checks string and genes agree.
  Arch from_json(const nlohmann::json& j) const;
  Arch sample(Rng& rng) const;
  /// A different valid arch near `arch` (by default: one choice changed).
  Arch mutate(const Arch& arch, Rng& rng) const;
  /// A valid child mixing the genes of both parents.
  Arch crossover(const Arch& a, const Arch& b, Rng& rng) const;
  /// True if the arch belongs to this space and obeys its rules.
  bool is_valid(const Arch& arch) const noexcept;
  /// Throws InvalidArchError naming the problem if !is_valid(arch).
  void validate(const Arch& arch) const;
  /// Every arch of the space in gene order; throws ConfigError if size() > limit.
  std::vector<Arch> enumerate(double limit = 1e7) const;

  // --- describing archs ---------------------------------------------------------------
  /// The layers of the network built for `arch` at input_shape_of(arch).
  std::vector<LayerSpec> layers(const Arch& arch) const;
  /// The same at another input shape (e.g. another resolution).
  std::vector<LayerSpec> layers(const Arch& arch, const Shape& input) const;
  /// Every distinct layer (by key) that any arch of the space contains, at each arch's own
  /// input shape: what a latency table of this space needs. Spaces too large to enumerate
  /// override do_layer_universe.
  std::vector<LayerSpec> layer_universe() const;
  /// The layers as parts, in order, each decided by a few genes: for every arch, the parts'
  /// layers for its genes, concatenated, are layers(arch). Cost models precompute each
  /// part for every value of its genes, so that a latency-table look-up is a few array
  /// reads. Default: none (cost models use layers(arch)).
  virtual std::vector<LayerPart> layer_parts() const { return {}; }
  /// Feature vector for predictors (by default: one-hot per choice).
  std::vector<float> encode(const Arch& arch) const;
  /// Length of encode()'s vectors.
  int64_t encoding_size() const;
  /// How to draw the arch (hwnas/core/drawing.h): a cell DAG, a block chain, or by default
  /// a table of the choices.
  Drawing drawing(const Arch& arch) const;
  /// Names the layout of encode()'s vectors, which saved predictors check: "" (the
  /// default) means the layout follows the choices and their options; a space whose
  /// encoding is the same for every configuration (e.g. OFA's, by value) names it.
  virtual std::string encoding_format() const { return ""; }

  // --- models -------------------------------------------------------------------------
  /// A standalone LibTorch model for `arch` (freshly initialised; seed with
  /// torch::manual_seed for reproducible weights). Include hwnas/nn/network.h to use it.
  std::shared_ptr<nn::Network> build(const Arch& arch, const BuildOptions& options = {}) const;
  /// A weight-sharing supernet that runs every arch of the space on a single path; see
  /// hwnas/nn/supernet.h. Throws ConfigError if the space has none.
  std::shared_ptr<nn::Supernet> supernet(const SupernetOptions& options = {}) const;

 protected:
  /// A layer part for spaces whose layers are named after their place: the layers called
  /// `names` in do_layers() of `base` with the part's genes set. Right when those layers
  /// depend on no gene but `genes` (layer_parts()' contract).
  LayerPart named_layer_part(std::vector<int> genes, std::vector<std::string> names, std::vector<int> base) const;
  /// Canonical string of valid genes.
  virtual std::string genes_to_string(const std::vector<int>& genes) const = 0;
  /// Genes of a canonical string; throw ParseError naming the fault and its position.
  virtual std::vector<int> parse_genes(const std::string& canonical) const = 0;
  /// Rules beyond "each gene indexes its choice's options" (checked before this is
  /// called); throw InvalidArchError naming the field and the allowed values.
  virtual void check_rules(const std::vector<int>& genes) const {}
  /// Maps genes that describe the same network to one representative (e.g. settings of
  /// blocks beyond the active depth); make/parse/sample/mutate apply it. Default: none.
  virtual std::vector<int> canonicalize(std::vector<int> genes) const { return genes; }
  /// Reads an arch given as a JSON object in the space's own format (e.g. OFA's
  /// {"ks": [...], "e": [...], "d": [...], "r": [...]}); default: not supported.
  virtual std::vector<int> genes_from_json(const nlohmann::json& j) const;
  /// See input_shape_of; default: input_shape().
  virtual Shape arch_input_shape(const std::vector<int>& genes) const { return input_shape(); }
  virtual std::vector<int> do_sample(Rng& rng) const;
  virtual std::vector<int> do_mutate(const std::vector<int>& genes, Rng& rng) const;
  virtual std::vector<int> do_crossover(const std::vector<int>& a, const std::vector<int>& b,
                                        Rng& rng) const;
  virtual std::vector<LayerSpec> do_layers(const std::vector<int>& genes,
                                           const Shape& input) const = 0;
  virtual std::vector<float> do_encode(const std::vector<int>& genes) const;
  virtual Drawing do_drawing(const std::vector<int>& genes) const;
  virtual int64_t do_encoding_size() const;
  virtual std::shared_ptr<nn::Network> do_build(const std::vector<int>& genes,
                                                const BuildOptions& options) const = 0;
  /// Checks a shape passed to layers(); by default any positive shape.
  virtual void check_input_shape(const Shape& input) const;
  /// Default: the layers of every arch (for spaces of up to 1e5 archs).
  virtual std::vector<LayerSpec> do_layer_universe() const;
  /// The supernet; default: ConfigError "space has no supernet".
  virtual std::shared_ptr<nn::Supernet> do_supernet(const SupernetOptions& options) const;

 private:
  void check_genes(const std::vector<int>& genes) const;
  void check_own(const Arch& arch) const;
};

/// The registry type of search spaces; the registry itself, with the built-in spaces, is
/// space_registry() in hwnas/search_spaces/registry.h.
using SpaceRegistry = Registry<SearchSpace>;

}  // namespace hwnas

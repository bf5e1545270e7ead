#pragma once
// Encodings: how a predictor sees an arch, as a fixed-length vector of floats. Each kind is
// registered in encoding_registry() and may fit only some spaces; kinds joined by '+' are
// concatenated (e.g. "path+cost"). Built-ins:
//   onehot   every space: SearchSpace::encode (one-hot of each choice, or the space's own)
//   path     nb201: the input-to-output paths as sequences of operations (BANANAS; NASLib's
//            layout: 5 + 25 + 125 slots for paths of 1, 2 and 3 edges)
//   graph    nb201, darts: the cell as a DAG with operations on nodes (the GCN predictor's
//            input, Wen et al. 2020): adjacency matrix, then one-hot node operations
//   stages   mobilenet, ofa: per stage its depth, mean kernel and mean expand ratio (ofa
//            adds the resolution), scaled to [0, 1]
//   cost     every space: log10 of params and MACs from the analytic cost model
//
// Example, a predictor on the path encoding:
//   auto p = hwnas::predictors::make_predictor("mlp", {{"encoding", "path"}});
//   p->fit(space, archs, accuracies);
//
// A new encoding derives from Encoding and registers itself (names: lower case, no '+'):
//   encoding_registry().add("mine", "...", [](const nlohmann::json&) { return std::make_unique<Mine>(); });
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hwnas/core/arch.h"
#include "hwnas/core/registry.h"

namespace hwnas {
class SearchSpace;
}

namespace hwnas::predictors {

/// How an encoding lays out cell graphs (the `graph` encoding): per cell, `nodes` x
/// `nodes` adjacency (row = from), then a one-hot type per node (`types` values).
struct GraphLayout {
  int64_t cells = 0, nodes = 0, types = 0;
  int64_t cell_size() const { return nodes * nodes + nodes * types; }
  int64_t size() const { return cells * cell_size(); }
};

class Encoding {
 public:
  virtual ~Encoding() = default;
  /// Empty if this encoding fits `space`, else why not (a sentence naming what would).
  virtual std::string unsupported(const SearchSpace& space) const { return ""; }
  /// Number of features for archs of `space`.
  virtual int64_t size(const SearchSpace& space) const = 0;
  /// Writes size(space) features of `arch` to `out`.
  virtual void encode(const SearchSpace& space, const Arch& arch, float* out) const = 0;
  /// For an encoding of cell graphs, their layout for `space` (graph predictors read it);
  /// cells = 0 otherwise.
  virtual GraphLayout graph_layout(const SearchSpace& space) const { return {}; }
};

using EncodingRegistry = Registry<Encoding>;

/// The encoding registry, with the built-ins registered on first use.
EncodingRegistry& encoding_registry();

/// The kinds in `kind` ("a+b" -> {"a", "b"}), each checked to be registered and to fit
/// `space`; throws ConfigError naming the kind, the space and the valid kinds.
std::vector<std::shared_ptr<const Encoding>> encodings_for(const SearchSpace& space, const std::string& kind);
/// Throws ConfigError if `kind` is not a registered kind or '+'-joined kinds.
void check_encoding_kind(const std::string& kind);
/// Total feature count of `kind` for `space`.
int64_t encoding_size(const SearchSpace& space, const std::string& kind);

/// The size of `kind` for `space` and where its first graph part is (offset -1: none).
struct EncodingShape {
  int64_t size = 0;
  int64_t graph_offset = -1;
  GraphLayout graph;
};
EncodingShape encoding_shape(const SearchSpace& space, const std::string& kind);

}  // namespace hwnas::predictors

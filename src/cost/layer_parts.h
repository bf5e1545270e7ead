#pragma once
// A space's layer parts (SearchSpace::layer_parts) with their layers for every value of
// their genes, computed once: what additive cost models precompute per part, so that an
// arch's cost is a few array reads instead of building its layers.
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "hwnas/core/arch.h"
#include "hwnas/core/layer_spec.h"
#include "hwnas/core/search_space.h"

namespace hwnas::cost {

class LayerPartTable {
 public:
  /// A part of more than this many gene values is not precomputed (empty() is then true).
  static constexpr int64_t kMaxValues = 1 << 16;

  explicit LayerPartTable(const SearchSpace& space) {
    auto parts = space.layer_parts();
    for (const auto& p : parts) {
      Part part{p.genes, {}, {0}, {}, {}};
      int64_t n = 1;
      for (int g : p.genes) {
        part.stride.push_back(n);
        n *= static_cast<int64_t>(space.choices().at(static_cast<size_t>(g)).options.size());
        if (n > kMaxValues) {
          parts_.clear();
          return;
        }
      }
      std::vector<int> values(p.genes.size());
      for (int64_t c = 0; c < n; ++c) {
        for (size_t k = 0; k < values.size(); ++k)
          values[k] = static_cast<int>(c / part.stride[k] %
                                       static_cast<int64_t>(space.choices()[static_cast<size_t>(p.genes[k])].options.size()));
        try {
          for (auto& l : p.layers(values)) part.layers.push_back(std::move(l));
          part.bad.push_back(0);
        } catch (const std::exception&) {  // no valid arch has these values (a skip where the shape changes, groups
                                             // that do not divide): the part's layers are made for every value
          part.bad.push_back(1);
        }
        part.offsets.push_back(part.layers.size());
      }
      parts_.push_back(std::move(part));
    }
  }

  bool empty() const noexcept { return parts_.empty(); }
  size_t size() const noexcept { return parts_.size(); }
  /// Part i's layers for every value of its genes, one after another.
  const std::vector<LayerSpec>& layers(size_t i) const { return parts_[i].layers; }
  /// The range [first, last) of part i's layers() that `arch`'s genes select; nothing if
  /// the part's layers could not be made for them (the arch's own layers() says why).
  std::optional<std::pair<size_t, size_t>> range(size_t i, const Arch& arch) const {
    const auto& p = parts_[i];
    size_t c = 0;
    for (size_t k = 0; k < p.genes.size(); ++k)
      c += static_cast<size_t>(arch.genes()[static_cast<size_t>(p.genes[k])] * p.stride[k]);
    if (p.bad[c]) return std::nullopt;
    return std::pair{p.offsets[c], p.offsets[c + 1]};
  }

 private:
  struct Part {
    std::vector<int> genes;
    std::vector<int64_t> stride;   // per gene: the step of its option index
    std::vector<size_t> offsets;   // value -> its first layer (one more than the values)
    std::vector<LayerSpec> layers;
    std::vector<char> bad;         // value -> its layers could not be made
  };
  std::vector<Part> parts_;
};

}  // namespace hwnas::cost

#pragma once
// LayerSpec: one layer of a concrete network, with its kind, shapes and attributes.
// key() is the one canonical name of a layer configuration, shared by the analytic cost
// model, the profiler and latency tables, so that a table built here is usable anywhere.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace hwnas {

/// Per-sample activation shape, channels x height x width (the batch is not part of it).
struct Shape {
  int64_t c = 0;
  int64_t h = 0;
  int64_t w = 0;

  int64_t numel() const noexcept { return c * h * w; }
  /// "CxHxW", e.g. "16x32x32".
  std::string str() const;
  /// Parses "CxHxW" (as printed by str()); throws ParseError naming the fault.
  static Shape parse(const std::string& s);

  friend bool operator==(const Shape& a, const Shape& b) {
    return a.c == b.c && a.h == b.h && a.w == b.w;
  }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
};

std::ostream& operator<<(std::ostream& out, const Shape& s);

/// One layer of a network. The vocabulary of kinds and their attributes is listed in
/// docs/architecture.md; the analytic cost model knows each of them.
struct LayerSpec {
  /// Layer kind, e.g. "relu_conv_bn", "avg_pool", "linear".
  std::string kind;
  Shape input;
  Shape output;
  /// Integer attributes (kernel "k", stride "s", groups "g", ...). Kept sorted by name.
  std::vector<std::pair<std::string, int64_t>> attrs;
  /// Where the layer sits in the network (e.g. "cells.3.edge1<-0"); not part of key().
  std::string name;

  LayerSpec() = default;
  LayerSpec(std::string kind, Shape input, Shape output,
            std::vector<std::pair<std::string, int64_t>> attrs = {}, std::string name = {});

  /// The canonical key: "kind-in:CxHxW-out:CxHxW-a:1-b:2" with attributes sorted by name.
  std::string key() const;
  /// The layer a key() describes; throws ParseError naming the fault.
  static LayerSpec from_key(const std::string& key);
  /// The attribute's value; throws NotFoundError naming the layer if it is missing.
  int64_t attr(const std::string& attr_name) const;
  /// The attribute's value, or `fallback` if it is missing.
  int64_t attr_or(const std::string& attr_name, int64_t fallback) const noexcept;
};

}  // namespace hwnas

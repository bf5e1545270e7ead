#pragma once
// Layer kinds: the extension point for what a LayerSpec's `kind` means to the cost models.
// A kind gives its analytic cost (parameters, MACs, its largest intermediate activation)
// and how to build and run one layer of it for profiling. The analytic model
// (hwnas/cost/analytic.h), the profiler and latency tables all dispatch through
// layer_kind_registry(), so a space that needs a new op (an attention block, a grouped or
// dilated variant) registers the kind and is costed, profiled and tabled like a built-in.
//
// This header does not include LibTorch: `build` returns an nn::Op (a torch module,
// declared here only by name), written in the .cpp that registers the kind.
//
// Example (a squeeze-free 1-D attention block; see examples/custom_layer_kind.cpp):
//   hwnas::cost::LayerKind kind;
//   kind.cost = [](const hwnas::LayerSpec& l) { return hwnas::cost::LayerCost{4 * l.input.c * l.input.c, ...}; };
//   kind.build = [](const hwnas::LayerSpec& l) -> std::shared_ptr<hwnas::nn::Op> {
//     return std::make_shared<MyAttention>(l.input.c);  // forward(N x C x H x W)
//   };
//   hwnas::cost::register_layer_kind("attention", "Self-attention over the feature map", kind);
//
// A kind with `build` is profiled (its module timed in eval mode on a random batch) and
// goes into profiling kits (hwnas/export/kit.h: the module exported as ONNX and
// TorchScript, for devices hwnas does not run on).
//
// Table keys: LayerSpec::key() is the key a kind's layers have in hwnas latency tables.
// Tables imported from elsewhere use another key format (key_format_registry(): "hwnas"
// built in, "ofa" registered by the ofa space).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hwnas/core/layer_spec.h"
#include "hwnas/core/registry.h"

namespace hwnas::nn {
class Op;
}

namespace hwnas::cost {

struct LayerCost {
  int64_t params = 0;
  int64_t macs = 0;
  /// Activation elements alive while the layer runs, per sample: its input, its output
  /// and its largest internal intermediate (e.g. an MBConv's expanded tensor).
  int64_t activations = 0;
};

/// One forward pass of a built layer on a fixed input batch, without gradients.
using LayerRun = std::function<void()>;

struct LayerKind {
  /// Parameters and MACs of one layer (`activations` is filled in by the analytic model
  /// from the shapes and `intermediate`). Required.
  std::function<LayerCost(const LayerSpec&)> cost;
  /// The largest intermediate tensor besides the input and output, in elements per sample;
  /// unset means none.
  std::function<int64_t(const LayerSpec&)> intermediate;
  /// Builds the layer in eval mode with random weights and a random batch of `batch`
  /// inputs, and returns what runs it. Optional: unset, the profiler runs `build`'s module.
  std::function<LayerRun(const LayerSpec&, int64_t batch)> build_runner;
  /// One layer as a module in eval mode with random weights, taking one N x C x H x W
  /// input of the layer's input shape: what the profiler times (unless build_runner is set)
  /// and what a profiling kit exports. With neither set the kind cannot be profiled.
  std::function<std::shared_ptr<nn::Op>(const LayerSpec&)> build;
};

/// The module of `layer` (its kind's `build`); throws NotFoundError naming the kind when
/// it has none.
std::shared_ptr<nn::Op> build_layer(const LayerSpec& layer);

using LayerKindRegistry = Registry<LayerKind>;

/// The layer-kind registry. hwnas's generic kinds (conv_bn, relu_conv_bn, conv_bn_act,
/// conv_act, linear, avg_pool, max_pool, global_avg_pool, bn_relu, add, identity, zero) are
/// registered on first use; the built-in spaces register their own kinds (mbconv,
/// nb201_resblock, sep_conv, dil_conv, factorized_reduce, darts_aux_head) when a built-in
/// space is first made.
LayerKindRegistry& layer_kind_registry();

/// Registers `kind` under `name`; throws ConfigError if the name is taken or `kind.cost`
/// is unset.
void register_layer_kind(const std::string& name, const std::string& description, LayerKind kind);

/// The kind of a layer; throws NotFoundError naming the layer and listing the known kinds.
const LayerKind& layer_kind(const LayerSpec& layer);

/// How a latency table names layers: "hwnas" (LayerSpec::key(), the default) or a format
/// of tables imported from other tools.
struct KeyFormat {
  std::function<std::string(const LayerSpec&)> key;
  /// Whether keys parse back with LayerSpec::from_key (needed by the nearest-shape fallback).
  bool parses_back = false;
};

using KeyFormatRegistry = Registry<KeyFormat>;

/// The key-format registry ("hwnas" registered on first use).
KeyFormatRegistry& key_format_registry();

}  // namespace hwnas::cost

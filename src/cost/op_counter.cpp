#include "hwnas/cost/op_counter.h"

#include <cstring>

#include <ATen/record_function.h>
#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas::cost {
namespace {

thread_local OpCount* t_count = nullptr;
thread_local int t_depth = 0;  // counted ops in progress (an op may call another, e.g. linear -> addmm)

struct Context : at::ObserverContext {
  enum Kind { kConv, kLinear } kind;
  int64_t per_output = 0;  // MACs per output element
  bool counted = false;    // false for an op nested in a counted one
};

// The ops counted and where their reduction size comes from:
//   aten::conv2d(input, weight [out, in/g, kh, kw], ...)
//   aten::linear(input, weight [out, in], bias)
//   aten::addmm(bias, input, mat2 [in, out])  (LibTorch's functional linear on 2-d input)
//   aten::matmul(input, mat2 [in, out])       (its linear without bias)
std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  if (!t_count) return nullptr;
  const char* name = fn.name();
  const bool conv = std::strcmp(name, "aten::conv2d") == 0, linear = std::strcmp(name, "aten::linear") == 0,
             addmm = std::strcmp(name, "aten::addmm") == 0, matmul = std::strcmp(name, "aten::matmul") == 0;
  if (!(conv || linear || addmm || matmul)) return nullptr;
  auto ctx = std::make_unique<Context>();
  auto inputs = fn.inputs();
  const size_t w_at = addmm ? 2 : 1;
  ctx->counted = t_depth == 0 && inputs.size() > w_at && inputs[w_at].isTensor();
  ++t_depth;
  if (!ctx->counted) return ctx;
  const auto& w = inputs[w_at].toTensor();
  ctx->kind = conv ? Context::kConv : Context::kLinear;
  ctx->per_output = conv ? w.size(1) * w.size(2) * w.size(3) : linear ? w.size(1) : w.size(0);
  return ctx;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* raw) {
  auto* ctx = static_cast<Context*>(raw);
  if (!ctx) return;
  --t_depth;
  if (!t_count || !ctx->counted || fn.outputs().empty() || !fn.outputs()[0].isTensor()) return;
  const int64_t macs = fn.outputs()[0].toTensor().numel() * ctx->per_output;
  if (ctx->kind == Context::kConv) {
    t_count->conv_macs += macs;
    ++t_count->convs;
  } else {
    t_count->linear_macs += macs;
    ++t_count->linears;
  }
}

}  // namespace

OpCount count_ops(const std::function<void()>& fn) {
  HWNAS_CHECK_T(ConfigError, static_cast<bool>(fn), "count_ops needs a function to run");
  HWNAS_CHECK_T(ConfigError, t_count == nullptr, "count_ops calls cannot be nested");
  OpCount count;
  t_count = &count;
  t_depth = 0;
  auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(on_start, on_end).needsInputs(true).needsOutputs(true));
  try {
    fn();
  } catch (...) {
    at::removeCallback(handle);
    t_count = nullptr;
    throw;
  }
  at::removeCallback(handle);
  t_count = nullptr;
  return count;
}

}  // namespace hwnas::cost

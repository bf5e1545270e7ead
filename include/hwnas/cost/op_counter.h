#pragma once
// An independent MAC count: runs a module and adds up the multiply-accumulates of the
// convolutions and linear layers LibTorch actually executes (observed through ATen's
// RecordFunction callbacks, from the real weight and output shapes). Used to check the
// analytic cost model, and to count any LibTorch module, not only hwnas's.
#include <cstdint>
#include <functional>

namespace hwnas::cost {

struct OpCount {
  int64_t conv_macs = 0;
  int64_t linear_macs = 0;
  int64_t convs = 0;    // aten::conv2d calls
  int64_t linears = 0;  // linear layers (aten::linear, or addmm/matmul outside one)
  int64_t macs() const { return conv_macs + linear_macs; }
};

/// Runs `fn` (e.g. a forward pass of batch size 1) on this thread and counts the MACs of
/// every aten::conv2d (output elements x input channels per group x kernel area) and linear
/// layer (output elements x input features; aten::linear, or the aten::addmm / aten::matmul
/// LibTorch's functional linear calls) it executes. Ops nested in a counted op are not
/// counted again.
OpCount count_ops(const std::function<void()>& fn);

}  // namespace hwnas::cost

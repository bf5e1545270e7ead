#pragma once
// Intra-op threads of LibTorch's CPU kernels.
namespace hwnas {

/// Sets LibTorch's intra-op threads; 0 means every logical core of this machine
/// (LibTorch's own default can be fewer: one per physical core it detects).
/// Returns the number now in use.
int set_threads(int threads);

/// LibTorch's current intra-op thread count.
int threads();

}  // namespace hwnas

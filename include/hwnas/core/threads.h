#pragma once
// Intra-op threads of LibTorch's CPU kernels.
namespace hwnas {

/// Sets LibTorch's intra-op threads (and keeps OpenBLAS, when it is the BLAS in use, at one
/// thread: its own pool would otherwise oversubscribe the cores); 0 means every logical core
/// (LibTorch's own default can be fewer: one per physical core it detects).
/// Returns the number now in use.
int set_threads(int threads);

/// LibTorch's current intra-op thread count.
int threads();

/// Keeps freed memory in the process heap instead of returning large blocks to the OS
/// after every tensor (glibc's default), which costs page faults on every large
/// activation: 1.9x on a MobileNet forward pass on this project's CPU. Called by the CLI,
/// the profiler and whole-network measurement; the process keeps its peak heap.
void tune_allocator();

}  // namespace hwnas

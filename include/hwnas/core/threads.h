#pragma once
// Intra-op threads of LibTorch's CPU kernels, and a pool for independent work items.
#include <cstdint>
#include <functional>

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

/// Calls work(i) once for every i in [0, n), on `threads` threads (0: one per logical core;
/// never more than n; the calling thread is one of them), each taking the next index as it
/// becomes free. Every item runs even when some throw; then the exception of the lowest
/// index is rethrown, so the error reported does not depend on the threads' timing.
/// `work` must be safe to call from several threads at once.
void parallel_indexed(int64_t n, int threads, const std::function<void(int64_t)>& work);

}  // namespace hwnas

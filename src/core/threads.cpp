#include "hwnas/core/threads.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include "hwnas/core/error.h"

namespace hwnas {
namespace {
// Debian's LibTorch multiplies matrices through the system BLAS; OpenBLAS (the fast one)
// runs its own thread pool besides LibTorch's. Left alone, "1 thread" uses OpenBLAS's
// threads too, and "2 threads" oversubscribes a 2-core machine (LibTorch's threads each
// calling a multi-threaded BLAS), which makes timings erratic (measured: 22-66 ms for one
// network). LibTorch's threads do the parallel work; OpenBLAS stays at one thread.
void single_threaded_blas() {
  using SetThreads = void (*)(int);
  static const auto set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set) set(1);
}
}  // namespace

int set_threads(int n) {
  HWNAS_CHECK_T(ConfigError, n >= 0, "Expected a thread count >= 0 (0: all cores), but got ", n);
  if (n == 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (at::get_num_threads() != n) at::set_num_threads(n);
  single_threaded_blas();
  return at::get_num_threads();
}

int threads() { return at::get_num_threads(); }

void tune_allocator() {
  // glibc serves blocks above its mmap threshold (128 KiB, adapting up to 32 MiB) with
  // fresh mmaps and unmaps them on free, so every large activation tensor page-faults on
  // every forward pass. Keeping freed memory in the heap made a MobileNet forward pass
  // 1.9x faster here (33.5 -> 18.0 ms) and per-layer timings add up to whole networks.
  // Trimming is off too (-1, as mallopt(3) documents): with a 1 GiB threshold, a DARTS
  // step peaking at 2.2 GiB gave its heap top back after every step and faulted it in again
  // (847,580 minor faults in a 7-step run of the PyTorch peer with the same settings;
  // bench_oneshot speed now counts 0 per step for both).
  static const bool done = [] {
    ::mallopt(M_MMAP_THRESHOLD, 1 << 30);
    ::mallopt(M_TRIM_THRESHOLD, -1);
    return true;
  }();
  (void)done;
}

void parallel_indexed(int64_t n, int threads, const std::function<void(int64_t)>& work) {
  HWNAS_CHECK_T(ConfigError, threads >= 0, "Expected a thread count >= 0 (0: all cores), but got ", threads);
  if (n <= 0) return;
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  const int64_t count = std::min<int64_t>(n, threads > 0 ? threads : cores);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  std::atomic<int64_t> next{0};
  const auto run = [&] {
    for (int64_t i = next++; i < n; i = next++) {
      try {
        work(i);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(count - 1));
  for (int64_t t = 1; t < count; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace hwnas

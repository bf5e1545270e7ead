#include "hwnas/core/threads.h"

#include <thread>

#include <ATen/Parallel.h>

#include "hwnas/core/error.h"

namespace hwnas {

int set_threads(int n) {
  HWNAS_CHECK_T(ConfigError, n >= 0, "Expected a thread count >= 0 (0: all cores), but got ", n);
  if (n == 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (at::get_num_threads() != n) at::set_num_threads(n);
  return at::get_num_threads();
}

int threads() { return at::get_num_threads(); }

}  // namespace hwnas

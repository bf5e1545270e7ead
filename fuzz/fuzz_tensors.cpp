// Tensor files (torch.save's zip format) as the tensors dataset reads them.
#include "fuzz_util.h"
#include "hwnas/data/tensor_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hwnas::fuzz::expect_only_errors([&] {
    (void)hwnas::data::load_tensor_file(
        hwnas::data::TensorFileOptions().path(hwnas::fuzz::as_file(data, size, ".pt")).limit(4).max_bytes(1 << 20));
  });
  return 0;
}

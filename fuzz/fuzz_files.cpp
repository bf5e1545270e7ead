// Files read from disk: arch tables (CSV, JSONL, JSON), arch lists, IDX files and CIFAR
// binary batches (CIFAR-10 and CIFAR-100 test files) and NumPy .npy files.
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "hwnas/core/arch_table.h"
#include "hwnas/core/search_space.h"
#include "hwnas/data/cifar.h"
#include "hwnas/data/idx.h"
#include "hwnas/data/npy.h"
#include "hwnas/search_spaces/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto space = hwnas::make_space("nb201");
  if (size == 0) return 0;
  const auto kind = data[0] % 8;
  hwnas::fuzz::expect_only_errors([&] {
    static const char* suffix[] = {".csv", ".jsonl", ".json"};
    if (kind < 3) {
      (void)hwnas::read_arch_table(hwnas::fuzz::as_file(data + 1, size - 1, suffix[kind]), *space);
    } else if (kind == 7) {
      (void)hwnas::data::load_npy(hwnas::fuzz::as_file(data + 1, size - 1, ".npy"), 2);
    } else if (kind >= 5) {
      const auto dir = hwnas::fuzz::scratch_dir() + "/cifar";
      std::filesystem::create_directories(dir);
      hwnas::fuzz::write_file(dir + (kind == 5 ? "/test_batch.bin" : "/test.bin"), data + 1, size - 1);
      (void)hwnas::data::load_cifar(hwnas::data::CifarOptions().root(dir).classes(kind == 5 ? 10 : 100).train(false));
    } else {
      std::vector<uint8_t> bytes;
      (void)hwnas::data::read_idx_file(hwnas::fuzz::as_file(data + 1, size - 1, ".idx"), kind == 3 ? 3 : 1, bytes,
                                       kind == 3 ? 2 : 0);
    }
  });
  return 0;
}

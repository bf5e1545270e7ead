// The canonical strings of every built-in space: parse refuses with an hwnas::Error or
// gives an arch whose string parses back to the same arch.
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::unique_ptr<hwnas::SearchSpace>> spaces = [] {
    std::vector<std::unique_ptr<hwnas::SearchSpace>> v;
    for (const char* name : {"nb201", "darts", "mobilenet", "ofa"}) v.push_back(hwnas::make_space(name));
    return v;
  }();
  if (size == 0) return 0;
  const auto& space = *spaces[data[0] % spaces.size()];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  hwnas::fuzz::expect_only_errors([&] {
    const auto arch = space.parse(text);
    const auto again = space.parse(arch.str());
    if (again.str() != arch.str()) std::abort();
    (void)space.layers(arch);
  });
  return 0;
}

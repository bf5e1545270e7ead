// parse_json: the one JSON reader (configs, tables, predictors, arch tables, metadata).
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "hwnas/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hwnas::fuzz::expect_only_errors([&] {
    const auto j = hwnas::parse_json(text, "fuzz input");
    // What parses is printable and parses again to the same document.
    const auto again = hwnas::parse_json(j.dump(), "dumped");
    if (again != j) std::abort();
  });
  return 0;
}

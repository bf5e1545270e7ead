// Space configs of every built-in space and experiment configs, from JSON text.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "hwnas/core/json.h"
#include "hwnas/core/search_space.h"
#include "hwnas/experiment/config.h"
#include "hwnas/search_spaces/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  hwnas::fuzz::expect_only_errors([&] {
    const auto j = hwnas::parse_json(text, "fuzz input");
    switch (data[0] % 5) {
      case 0: (void)hwnas::make_space("nb201", j); break;
      case 1: (void)hwnas::make_space("darts", j); break;
      case 2: (void)hwnas::make_space("mobilenet", j); break;
      case 3: (void)hwnas::make_space("ofa", j); break;
      default: (void)hwnas::experiment::ExperimentConfig::from_json(j, "/nonexistent"); break;
    }
  });
  return 0;
}

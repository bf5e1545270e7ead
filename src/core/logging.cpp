#include "hwnas/core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace hwnas {

void set_verbosity(Verbosity verbosity) {
  static const bool configured = [] {
    auto logger = spdlog::stderr_color_mt("hwnas");
    logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)configured;
  switch (verbosity) {
    case Verbosity::kQuiet: spdlog::set_level(spdlog::level::warn); break;
    case Verbosity::kNormal: spdlog::set_level(spdlog::level::info); break;
    case Verbosity::kVerbose: spdlog::set_level(spdlog::level::debug); break;
  }
}

}  // namespace hwnas

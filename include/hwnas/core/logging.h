#pragma once
// Logging goes through spdlog's default logger, to standard error. The CLI maps
// --quiet / --verbose to these levels; library users may call it or configure spdlog.
namespace hwnas {

enum class Verbosity { kQuiet, kNormal, kVerbose };

/// Sets the level of hwnas's log output (quiet: warnings and errors only).
void set_verbosity(Verbosity verbosity);

}  // namespace hwnas

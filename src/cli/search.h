#pragma once
// hwnas search's arguments and run function, shared with the quickstart.
#include <cstdint>
#include <string>

#include "cli/context.h"

namespace hwnas::cli {

struct SearchArgs {
  std::string config, out;
  bool resume = false, overwrite = false, no_progress = false;
  int64_t evaluations = -1, seeds = 0;
  int64_t seed = -1;
};

/// Runs the search of a config file (or, with seeds > 0, its replay over seeds).
void run_search(Context& ctx, const SearchArgs& args);

}  // namespace hwnas::cli

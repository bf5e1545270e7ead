#pragma once
// Runs the hwnas command line in-process and captures what it prints.
#include <sstream>
#include <string>
#include <vector>

#include "hwnas/cli/cli.h"

namespace hwnas::test {
struct Run {
  int code;
  std::string out, err;
};
inline Run run_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = hwnas::cli::run(args, out, err);
  return {code, out.str(), err.str()};
}
}  // namespace hwnas::test

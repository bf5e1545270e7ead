#pragma once
// The hwnas command line as a library (target hwnas::cli): a program that registers its
// own spaces, layer kinds, predictors or strategies and then calls run_main gets every
// hwnas command with them.
//
//   int main(int argc, char** argv) {
//     hwnas::space_registry().add("tiny", "My space", make_tiny);
//     return hwnas::cli::run_main(argc, argv);
//   }
#include <iosfwd>
#include <string>
#include <vector>

namespace hwnas::cli {

/// Runs the command line on `args` (without the program name). Returns the exit status:
/// 0 success, 2 bad input or usage, 3 internal error. Output goes to `out`, errors to `err`.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// run() on main's arguments, with standard output and error.
int run_main(int argc, char** argv);

}  // namespace hwnas::cli

#pragma once
// The hwnas command line, callable in-process (tests) and from main().
#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace hwnas::cli {

/// Runs the command line; returns the exit status: 0 success, 2 bad input or usage,
/// 3 internal error. Normal output goes to `out`, errors to `err`.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Registration of the subcommands (one function per source file).
struct Context;
void add_space_commands(CLI::App& app, Context& ctx);
void add_demo_command(CLI::App& app, Context& ctx);

}  // namespace hwnas::cli

#pragma once
// State shared by the subcommands of one CLI invocation.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/core/search_space.h"

namespace CLI {
class App;
class Validator;
}

namespace hwnas::cli {

struct Context {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  /// The command to run once parsing succeeded.
  std::function<void()> action;
  /// The exit status of a command that ran without an error (e.g. 130 after Ctrl-C).
  int exit_code = 0;
};

/// --space NAME and --space-config JSON options, shared by several commands.
struct SpaceArgs {
  std::string name = "nb201";
  std::string config;  // JSON text or @file
  bool skip_bad_images = false;  // image-folder: leave out unreadable images (counted)
  std::unique_ptr<SearchSpace> make() const;
};
void add_space_args(CLI::App& cmd, SpaceArgs& args);

/// --data NAME, --data-dir DIR and --data-config JSON: the dataset of every command that
/// reads data (a registered dataset, see `hwnas datasets`).
struct DataSourceArgs {
  std::string name = "fashion-mnist";
  std::string dir;
  std::string config;  // JSON text or @file
  bool skip_bad_images = false;  // image-folder: leave out unreadable images (counted)
  /// {"name", "dir", "config"}: an evaluator's "data" without its sizes.
  nlohmann::json spec() const;
};
void add_data_source_args(CLI::App& cmd, DataSourceArgs& args);

/// --seed: a whole number from 0 to 2^64-1 (a negative or overflowing value is refused,
/// not wrapped around).
void add_seed_option(CLI::App& cmd, uint64_t& seed, const std::string& help);

/// --overwrite: replace existing outputs. Without it every command refuses an existing
/// output and leaves it as it is (hwnas::check_output_free).
void add_overwrite_flag(CLI::App& cmd, bool& overwrite);

/// A check for a floating-point option: a finite number (not nan or inf) in [lo, hi].
/// CLI11's own Range lets nan through.
CLI::Validator finite_range(double lo, double hi);

// Registration of the subcommands (one function per source file).
void add_space_commands(CLI::App& app, Context& ctx);
void add_list_commands(CLI::App& app, Context& ctx);
void add_demo_command(CLI::App& app, Context& ctx);
void add_cost_commands(CLI::App& app, Context& ctx);
void add_estimate_commands(CLI::App& app, Context& ctx);
void add_search_command(CLI::App& app, Context& ctx);
void add_train_supernet_command(CLI::App& app, Context& ctx);
void add_deploy_commands(CLI::App& app, Context& ctx);
void add_quickstart_command(CLI::App& app, Context& ctx);

}  // namespace hwnas::cli

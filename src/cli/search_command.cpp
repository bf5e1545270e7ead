// hwnas search: a hardware-aware search described by an experiment config; and
// hwnas train-supernet: single-path supernet training for inherited-weight evaluation.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <limits>
#include <ostream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/search.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/core/run_directory.h"
#include "hwnas/experiment/config.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/experiment/replay.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/oneshot/supernet_training.h"

namespace hwnas::cli {
namespace {

namespace fs = std::filesystem;
using experiment::ExperimentConfig;


std::string progress_text(const experiment::Progress& p, const std::vector<strategy::Objective>& objs) {
  std::string s;
  if (p.best) s = fmt::format("  best {} {:.5g}{}", objs[0].name, p.best->objectives[0], p.best->feasible() ? "" : " (infeasible)");
  if (objs.size() > 1) s += fmt::format("  front {}", p.front_size);
  return s;
}

experiment::RunResult run_one(Context& ctx, const ExperimentConfig& config, const SearchArgs& a, OutputMode mode,
                              bool progress) {
  experiment::Experiment exp(config);
  // A bar on a terminal only: logs of non-interactive runs get the summary alone.
  Progress bar(*ctx.err, "search", !progress || ::isatty(2) == 0);
  const auto& objs = config.objectives();
  auto options = experiment::RunOptions()
                     .resume(mode == OutputMode::resume)
                     .overwrite(mode == OutputMode::overwrite)
                     .stop(&stop_requested());
  options.on_batch([&](const experiment::Progress& p) {
    if (p.budget_evaluations > 0)
      bar.update(p.evaluations, p.budget_evaluations, progress_text(p, objs));
    else
      bar.update(static_cast<int64_t>(p.elapsed_s), static_cast<int64_t>(p.budget_seconds), progress_text(p, objs));
  });
  return exp.run(options);
}


// --- train-supernet ------------------------------------------------------------------

struct SupernetArgs {
  SpaceArgs space;
  DataSourceArgs data;
  std::string out, options;
  int64_t train_size = estimate::kDefaultTrainSize;
  bool resume = false, overwrite = false, no_progress = false;
};

void run_train_supernet(Context& ctx, const SupernetArgs& a) {
  auto& o = *ctx.out;
  const nlohmann::json space_config =
      a.space.config.empty() ? nlohmann::json::object() : parse_json_arg(a.space.config, "--space-config");
  auto setup = estimate::make_evaluator(
      {{"name", "none"}, {"data", [&] {
         auto d = a.data.spec();
         d["train_size"] = a.train_size;
         d["valid_size"] = 1;
         return d;
       }()}},
      a.space.name, space_config, 0);
  auto options = oneshot::SupernetTrainOptions::from_json(
      a.options.empty() ? nlohmann::json::object() : parse_json_arg(a.options, "--options"));
  const auto ckpt = a.out + ".ckpt";
  options.checkpoint(ckpt);
  const RunFile out_file(a.out, output_mode(a.resume, a.overwrite), "supernet weights", {ckpt});
  oneshot::SupernetTrainer trainer(setup.space, options);
  if (out_file.resumed() && fs::exists(ckpt)) trainer.load(ckpt);
  o << fmt::format("train-supernet: {} on {} ({} samples), rule {}, epochs {}; largest {} smallest {}\n",
                   setup.space->name(), a.data.name, setup.train.size(), options.rule(), options.epochs(),
                   trainer.largest().str(), trainer.smallest().str());
  Progress bar(*ctx.err, "train-supernet", a.no_progress || ::isatty(2) == 0);
  SigintGuard guard;
  trainer.run(setup.train, [&](const oneshot::SupernetEpoch& r) {
    bar.update(r.epoch, options.epochs(), fmt::format("loss {:.4f} acc {:.3f}", r.loss, r.largest_accuracy));
    o << fmt::format("epoch {}{}: loss {:.4f}, train accuracy {:.4f}, {:.1f} s\n", r.epoch,
                     r.phase ? fmt::format(" (phase {})", r.phase) : "", r.loss, r.largest_accuracy, r.seconds);
  }, &stop_requested());
  if (trainer.epoch() < options.epochs()) {
    o << fmt::format("stopped after epoch {}; continue with --resume\n", trainer.epoch());
    ctx.exit_code = 130;
    return;
  }
  trainer.save_weights(a.out);
  nlohmann::json evaluator = {{"name", "inherited"}, {"supernet", a.out}};
  if (a.data.name != "fashion-mnist" || !a.data.dir.empty() || !a.data.config.empty()) {
    evaluator["data"] = a.data.spec();
    if (evaluator["data"]["config"].empty()) evaluator["data"].erase("config");
  }
  o << fmt::format("supernet weights: {} (evaluator {})\n", a.out, evaluator.dump());
}

}  // namespace

void run_search(Context& ctx, const SearchArgs& a) {
  auto config = ExperimentConfig::load(a.config);
  if (!a.out.empty()) config.output(a.out);
  if (a.evaluations >= 0) config.budget().evaluations(a.evaluations);
  if (a.seed >= 0) config.seed(static_cast<uint64_t>(a.seed));
  HWNAS_CHECK_T(ConfigError, config.budget().evaluations() > 0 || config.budget().seconds() > 0,
                "The budget is zero: give --evaluations N (or \"budget\" in the config) a positive value");
  auto& o = *ctx.out;
  SigintGuard guard;
  if (a.seeds <= 0) {
    o << fmt::format("search: {} on {} with the {} evaluator; output {}\n", config.strategy(), config.space(),
                     config.evaluator().value("name", "?"), config.output());
    const auto r = run_one(ctx, config, a, output_mode(a.resume, a.overwrite), !a.no_progress);
    o << experiment::summary_table(r);
    o << fmt::format("results: {}/best.json, pareto.json, log.jsonl, summary.txt\n", r.output);
    if (r.stopped) {
      o << fmt::format("stopped by Ctrl-C after {} evaluations; continue with --resume\n", r.evaluations);
      ctx.exit_code = 130;
      return;
    }
    HWNAS_CHECK(r.feasible_found, "No arch met the constraints (", fmt::format("{}", fmt::join(config.constraints(), ", ")), ") in ",
                r.evaluations, " evaluations; the closest is in ", r.output,
                "/best.json. Loosen the constraints or raise the budget");
    return;
  }

  // Replay: the same search with seeds seed .. seed+N-1, each in <output>/seed-<s>.
  const auto root = config.output();
  HWNAS_CHECK_T(ConfigError, !root.empty(), "Give --out DIR (or \"output\" in the config)");
  // The seeds' runs follow the root's mode; an overwritten root is empty, so they start fresh.
  const RunDirectory replay_dir(root, output_mode(a.resume, a.overwrite), {"replay", [](const std::string& dir) {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename() == "replay.json" || e.path().filename().string().rfind("seed-", 0) == 0) return true;
    return false;
  }});
  const auto seed_mode = replay_dir.resumed() ? OutputMode::resume : OutputMode::fresh;
  o << fmt::format("replay: {} on {} with the {} evaluator, {} seeds from {}, {} evaluations each; output {}\n",
                   config.strategy(), config.space(), config.evaluator().value("name", "?"), a.seeds, config.seed(),
                   config.budget().evaluations(), root);
  Progress bar(*ctx.err, "replay", a.no_progress || ::isatty(2) == 0);
  std::vector<experiment::RunResult> results;
  const auto first = config.seed();
  for (int64_t i = 0; i < a.seeds; ++i) {
    auto c = config;
    c.seed(first + static_cast<uint64_t>(i));
    c.output((fs::path(root) / fmt::format("seed-{}", c.seed())).string());
    results.push_back(run_one(ctx, c, a, seed_mode, false));
    bar.update(i + 1, a.seeds);
    if (results.back().stopped) {
      o << fmt::format("stopped by Ctrl-C at seed {}; continue with --resume\n", c.seed());
      ctx.exit_code = 130;
      return;
    }
  }
  const auto summary = experiment::summarize_replay(config, results);
  const auto& objs = config.objectives();
  o << fmt::format("{} of {} runs found a feasible arch\n", summary.feasible_runs, a.seeds);
  if (summary.feasible_runs > 0)
    o << fmt::format("best {} ({}): mean {:.6g}  std {:.4g}  min {:.6g}  max {:.6g}\n", objs[0].name,
                     summary.maximize ? "max" : "min", summary.best_mean, summary.best_std, summary.best_min,
                     summary.best_max);
  if (summary.has_hypervolume)
    o << fmt::format("hypervolume: mean {:.6g}  std {:.4g}  (reference point [{:.6g}]{})\n", summary.hypervolume_mean,
                     summary.hypervolume_std, fmt::join(summary.reference_point, ", "),
                     summary.reference_given ? "" : ", the worst front values over all seeds; set \"reference_point\" "
                                                    "to compare with other runs");
  write_file_atomic((fs::path(root) / "replay.json").string(), summary.to_json().dump(2) + "\n");
  o << fmt::format("per-seed results: {}/replay.json\n", root);
}

void add_train_supernet_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<SupernetArgs>();
  auto* cmd = app.add_subcommand("train-supernet", "Train a weight-sharing supernet (SPOS or sandwich) for inherited-weight evaluation");
  add_space_args(*cmd, a->space);
  add_data_source_args(*cmd, a->data);
  cmd->add_option("--train-size", a->train_size, "Training images")->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd->add_option("--options", a->options, "Training options as JSON or @file, e.g. '{\"rule\": \"sandwich\", "
                  "\"epochs\": 5, \"progressive\": \"ofa\"}' (docs/search.md)");
  cmd->add_option("--out,-o", a->out, "Weights file to write (a checkpoint goes to OUT.ckpt)")->required();
  cmd->add_flag("--resume", a->resume, "Continue from OUT.ckpt");
  cmd->add_flag("--overwrite", a->overwrite, "Replace OUT and OUT.ckpt (at the first checkpoint)");
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_train_supernet(ctx, *a); }; });
}

void add_search_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand("search", "Search a space for the best archs under hardware constraints (experiment config)");
  cmd->add_option("--config,-c", a->config, "Experiment config (JSON; see docs/search.md)")->required();
  cmd->add_option("--out,-o", a->out, "Run directory (overrides \"output\")");
  cmd->add_option("--evaluations,-n", a->evaluations, "Evaluation budget (overrides \"budget\")")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  cmd->add_option("--seed", a->seed, "Seed (overrides \"seed\")")->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  cmd->add_option("--seeds", a->seeds, "Replay: run this many seeds (seed, seed+1, ...) and report mean and std "
                  "of the best value and hypervolume (for tabular benchmarks)")->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_flag("--resume", a->resume, "Continue the interrupted run in the output directory");
  cmd->add_flag("--overwrite", a->overwrite, "Replace the run in the output directory");
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_search(ctx, *a); }; });
}

}  // namespace hwnas::cli

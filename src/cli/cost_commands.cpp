// hwnas profile | measure | latency | table import-ofa | table import-kit | calibrate: each an
// Args struct, a run function and the options that fill it, as the other commands.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/cost.h"
#include "cli/progress.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "hwnas/core/config.h"
#include "hwnas/cost/calibration.h"
#include "hwnas/estimate/learned_latency.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/cost/profiler.h"
#include "hwnas/export/kit.h"
#include "hwnas/export/kit_import.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::cli {
namespace {


void add_timing_args(CLI::App& cmd, TimingArgs& a) {
  cmd.add_option("--device", a.device, "Device: cpu (cuda when LibTorch has it)")->capture_default_str();
  cmd.add_option("--device-name", a.device_name, "Name recorded for the device (default: --device)");
  cmd.add_option("--threads", a.threads, "Intra-op threads while timing (0: all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
  cmd.add_option("--batch", a.batch, "Batch size")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd.add_option("--warmup", a.warmup, "Warm-up runs")->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1000}));
  cmd.add_option("--runs", a.runs, "Minimum timed runs")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd.add_option("--min-time", a.min_time, "Minimum seconds of timed runs per item")->capture_default_str()->check(finite_range(0.0, 3600.0));
}

std::shared_ptr<const SearchSpace> shared_space(const SpaceArgs& a) { return std::shared_ptr<const SearchSpace>(a.make()); }

std::shared_ptr<const cost::LatencyTable> load_table(const std::string& path) {
  return std::make_shared<const cost::LatencyTable>(cost::LatencyTable::load(path));
}

void print_report(std::ostream& o, const std::string& title, const cost::CalibrationReport& r,
                  const char* predicted_by = "table") {
  o << fmt::format("{} ({} archs): MAPE {:.2f}%, within 5% {:.0f}%, within 10% {:.0f}%, Kendall tau {:.3f}, Spearman {:.3f}\n",
                   title, r.n, r.mape, 100 * r.within5, 100 * r.within10, r.kendall_tau, r.spearman);
  for (const auto& w : r.worst)
    o << fmt::format("  {:+7.2f}%  {} {:9.3f} ms  measured {:9.3f} ms  {}\n", w.error_percent, predicted_by, w.predicted, w.measured,
                     w.arch.size() > 100 ? w.arch.substr(0, 97) + "..." : w.arch);
}

struct LearnedArgs {
  std::string predictor, config, save, device;
};

void add_learned_args(CLI::App& cmd, LearnedArgs& a, const std::string& on) {
  cmd.add_option("--learned", a.predictor, "Also fit a learned latency model: this predictor on " + on +
                 " (the fitted archs), reported on the held-out ones")->check(CLI::IsMember(predictors::predictor_registry().names()));
  cmd.add_option("--learned-config", a.config, "Options of the --learned predictor (JSON or @file)");
  cmd.add_option("--save-learned", a.save, "Write the fitted --learned model here (a cost model: {\"name\": \"learned\", \"model\": FILE})");
  cmd.add_option("--learned-device", a.device, "Device name of the --learned model, latency@<name> in searches "
                 "(default: the table's device name + \"-learned\", or \"learned\" without a table)");
}

/// The --learned options given without --learned are refused.
void check_learned_args(const LearnedArgs& a) {
  for (const auto& [value, flag] : {std::pair{a.save, "--save-learned"}, std::pair{a.config, "--learned-config"},
                                    std::pair{a.device, "--learned-device"}})
    HWNAS_CHECK_T(ConfigError, value.empty() || !a.predictor.empty(), flag, " needs --learned PREDICTOR; give it or remove ", flag);
}

/// Fits the --learned model on `train`, reports on `test` and saves it with its provenance.
nlohmann::json fit_learned(std::ostream& o, const LearnedArgs& a, const std::shared_ptr<const SearchSpace>& space,
                           const std::shared_ptr<const cost::LatencyModel>& table, const std::string& table_file,
                           const std::vector<cost::Measurement>& train, const std::vector<cost::Measurement>& test,
                           estimate::LearnedLatencySource source) {
  const auto config = a.config.empty() ? nlohmann::json::object() : parse_json_arg(a.config, "--learned-config");
  estimate::LearnedLatencyModel model(space, predictors::make_predictor(a.predictor, config), table);
  model.set_device(!a.device.empty() ? a.device : table ? table->table().device.name + "-learned" : "learned");
  model.fit(train);
  std::vector<Arch> test_archs;
  for (const auto& m : test) test_archs.push_back(m.arch);
  const auto r = cost::evaluate_predictions(model.predict(test_archs), test);
  print_report(o, fmt::format("held-out, learned ({}{})", a.predictor, table ? " x table" : ", no table"), r, "model");
  source.archs = static_cast<int64_t>(train.size());
  source.held_out = r.to_json();
  model.set_source(std::move(source));
  model.set_table_file(table_file);
  if (!a.save.empty()) {
    model.save(a.save);
    o << fmt::format("learned latency model latency@{} (target {}) written to {}\n", model.device(),
                     model.predictor().target(), a.save);
  }
  return {{"predictor", a.predictor}, {"config", model.predictor().config()}, {"device", model.device()},
          {"held_out", r.to_json()}};
}

// --- hwnas profile ---------------------------------------------------------------------


void run_profile_kit(Context& ctx, const ProfileArgs& a) {
  auto s = a.space.make();
  Progress bar(*ctx.err, "kit " + s->name(), a.no_progress);
  const int64_t warmup = a.warmup_given ? a.timing.warmup : a.kit.protocol().warmup();
  auto o = exporting::KitOptions(a.kit)
               .dir(a.kit_dir)
               .archs(a.archs)
               .networks(a.networks)
               .batch(a.timing.batch)
               .opset(a.opset)
               .overwrite(a.overwrite)
               .protocol(exporting::KitProtocol().warmup(warmup).repetitions(a.repetitions))
               .on_progress([&bar](int64_t done, int64_t total, const std::string&) { bar.update(done, total); });
  const auto r = exporting::write_profiling_kit(*s, o);
  *ctx.out << fmt::format("profiling kit of space {} in {}: {} layers and {} whole networks as TorchScript and "
                          "ONNX (batch {}), fingerprint {}{}\n",
                          s->name(), r.dir, r.layers, r.networks, a.timing.batch, r.fingerprint,
                          r.skipped_kinds.empty() ? "" : fmt::format("; {} layers cost nothing and are left out",
                                                                     fmt::join(r.skipped_kinds, " and ")));
}

}  // namespace

void run_profile(Context& ctx, const ProfileArgs& a) {
  if (a.out.empty() && a.kit_dir.empty())
    throw ConfigError("hwnas profile: give --out TABLE.json (time this device) or --kit DIR (a kit for another device)");
  HWNAS_CHECK_T(ConfigError, a.out.empty() || a.kit_dir.empty(), "hwnas profile: give --out or --kit, not both");
  HWNAS_CHECK_T(ConfigError, !a.kit_dir.empty() || a.networks.empty(), "hwnas profile: --network is for --kit (a whole "
                "network in a kit for another device); give --kit DIR");
  HWNAS_CHECK_T(ConfigError, a.kit_dir.empty() || !a.timing_flags, "hwnas profile --kit writes models and times "
                "nothing: --resume, --limit, --runs and --min-time are for --out; give the kit's runners --warmup and "
                "--repetitions");
  if (!a.kit_dir.empty()) return run_profile_kit(ctx, a);
  auto s = a.space.make();
  Progress bar(*ctx.err, "profile " + s->name(), a.no_progress);
  auto opts = a.timing.options().out(a.out).resume(a.resume).overwrite(a.overwrite).max_new_entries(a.limit).on_progress(
      [&bar](int64_t done, int64_t total, const std::string&) { bar.update(done, total); });
  const auto universe = s->layer_universe().size();
  auto table = cost::profile_space(*s, opts);
  *ctx.out << fmt::format("{} of {} layers of space {} in {} (device {}, {} threads, batch {})\n", table.size(),
                          universe, s->name(), a.out, table.device.name, table.device.threads, table.device.batch);
}

namespace {

void add_profile_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("profile", "Time every distinct layer of a space on this device into a latency table "
                                            "(--out), or write a profiling kit for another device (--kit)");
  auto a = std::make_shared<ProfileArgs>();
  add_space_args(*cmd, a->space);
  add_timing_args(*cmd, a->timing);
  cmd->add_option("--out,-o", a->out, "Table file to write (JSON)");
  cmd->add_flag("--resume", a->resume, "Continue an interrupted table at --out");
  add_overwrite_flag(*cmd, a->overwrite);
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar");
  cmd->add_option("--limit", a->limit, "Stop after this many new layers (0: all); resume later")->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  cmd->add_option("--kit", a->kit_dir, "Instead of timing here: write a profiling kit to this folder (every layer and "
                                       "--archs whole networks as ONNX and TorchScript, a manifest; docs/cost-models.md)");
  cmd->add_option("--archs", a->archs, "--kit: whole networks of random archs, to calibrate against")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{100000}));
  cmd->add_option("--network", a->networks, "--kit: also this arch as a whole network, before the random ones "
                                            "(repeatable; e.g. a search's winner, to measure it on the device)");
  cmd->add_option("--repetitions", a->repetitions, "--kit: timed runs per model the kit's runners make (--warmup: untimed)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--opset", a->opset, "--kit: ONNX opset, 13 to 17")->capture_default_str()->check(CLI::Range(int64_t{13}, int64_t{17}));
  cmd->callback([&ctx, cmd, a] {
    a->timing_flags = a->resume || a->limit != 0 || cmd->count("--runs") > 0 || cmd->count("--min-time") > 0;
    a->warmup_given = cmd->count("--warmup") > 0;
    ctx.action = [&ctx, a] { run_profile(ctx, *a); };
  });
}

// --- hwnas measure, hwnas latency ---------------------------------------------------------

struct MeasureArgs {
  SpaceArgs space;
  TimingArgs timing;
  std::string arch;
};

void run_measure(Context& ctx, const MeasureArgs& a) {
  auto s = a.space.make();
  auto t = cost::measure_network(*s, s->parse(a.arch), a.timing.options());
  *ctx.out << fmt::format("mean {:.4f} ms  std {:.4f}  median {:.4f}  runs {} (outliers dropped {})\n", t.mean_ms,
                          t.std_ms, t.median_ms, t.count, t.outliers);
}

void add_measure_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("measure", "Time a whole network on this device");
  auto a = std::make_shared<MeasureArgs>();
  add_space_args(*cmd, a->space);
  add_timing_args(*cmd, a->timing);
  cmd->add_option("--arch,-a", a->arch, "The architecture's canonical string")->required();
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_measure(ctx, *a); }; });
}

struct LatencyArgs {
  SpaceArgs space;
  std::string table, arch, fallback = "error", metric = cost::LatencyOptions().metric();
};

void run_latency(Context& ctx, const LatencyArgs& a) {
  auto s = shared_space(a.space);
  cost::LatencyModel model(load_table(a.table), s,
                           cost::LatencyOptions()
                               .fallback(a.fallback == "nearest" ? cost::Fallback::kNearest : cost::Fallback::kError)
                               .metric(a.metric));
  auto arch = s->parse(a.arch);
  *ctx.out << fmt::format("{} {:.4f}\n", model.name(), model.predict(arch));
  for (const auto& [kind, v] : model.by_kind(arch)) *ctx.out << fmt::format("  {:<20} {:.4f}\n", kind, v);
}

void add_latency_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("latency", "Predict an architecture's latency from a table");
  auto a = std::make_shared<LatencyArgs>();
  add_space_args(*cmd, a->space);
  cmd->add_option("--table,-t", a->table, "Latency table (JSON)")->required();
  cmd->add_option("--arch,-a", a->arch, "The architecture's canonical string")->required();
  cmd->add_option("--fallback", a->fallback, "Missing layers: error or nearest")->check(CLI::IsMember({"error", "nearest"}))->capture_default_str();
  cmd->add_option("--metric", a->metric, "mean_ms or an extra metric of the table")->capture_default_str();
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_latency(ctx, *a); }; });
}

// --- hwnas table import-ofa | import-kit ------------------------------------------------

struct ImportOfaArgs {
  std::string dir, device = "note10", out;
  bool overwrite = false;
};

void run_import_ofa(Context& ctx, const ImportOfaArgs& a) {
  check_output_free(a.out, a.overwrite, "latency table");
  auto t = cost::LatencyTable::from_ofa_yaml(a.dir, a.device);
  t.save(a.out);
  *ctx.out << fmt::format("{} entries in {} resolution sections written to {} (use with --space ofa "
                          "--space-config '{{\"width_mult\": 1.2}}')\n", t.size(), t.sections.size(), a.out);
}

struct ImportKitArgs {
  std::string kit, results, out, device;
  int64_t holdout = exporting::KitImportOptions().holdout();
  LearnedArgs learned;
  bool overwrite = false;
};

void run_import_kit(Context& ctx, const ImportKitArgs& a) {
  check_output_free(a.out, a.overwrite, "latency table");
  if (!a.learned.save.empty()) check_output_free(a.learned.save, a.overwrite, "learned latency model (--save-learned)");
  check_learned_args(a.learned);
  const auto k = exporting::ProfilingKit::load(a.kit);
  const auto r = exporting::KitResults::load(a.results);
  const auto imported = exporting::import_kit(k, r, exporting::KitImportOptions().device_name(a.device).holdout(a.holdout));
  const auto& t = imported.table;
  auto& o = *ctx.out;
  o << fmt::format("{} layers of space {} measured by {} {} ({} threads) on {}; per-call overhead {:.4f} ms{}\n",
                   imported.layers, k.space, r.runtime, r.runtime_version, r.threads, r.device, t.overhead_ms,
                   imported.below_overhead ? fmt::format(" ({} layers below it, set to 0)", imported.below_overhead) : "");
  if (imported.calibrated) {
    const auto on = imported.held_out > 0 ? fmt::format("{} held-out networks", imported.held_out)
                                          : std::string("the fitted networks (none held out)");
    o << fmt::format("calibration fitted on {} whole networks; on {}:\n", imported.fitted_on, on);
    print_report(o, "  table sum", imported.uncalibrated);
    print_report(o, "  calibrated", imported.corrected);
  } else {
    o << "the kit has no whole networks: the table is not calibrated\n";
  }
  if (!a.learned.predictor.empty()) {
    HWNAS_CHECK_T(ConfigError, imported.calibrated && imported.held_out >= 2, "--learned fits on a kit's whole "
                  "networks and reports on held-out ones: give a kit with networks (hwnas profile --kit --archs N) "
                  "and --holdout 2 or more (here ", imported.held_out, " of ", imported.fitted_on + imported.held_out,
                  " are held out)");
    std::shared_ptr<const SearchSpace> s(make_space(k.space, k.space_config));
    fit_learned(o, a.learned, s, std::make_shared<cost::LatencyModel>(std::make_shared<cost::LatencyTable>(t), s),
                a.out, imported.fit_networks, imported.check_networks,
                {fmt::format("{} ({} networks of the kit)", r.source, imported.fitted_on), k.fingerprint, 0, nullptr});
  }
  t.save(a.out);
  o << fmt::format("latency table latency@{} written to {}\n", t.device.name, a.out);
}

void add_table_commands(CLI::App& app, Context& ctx) {
  auto* table = app.add_subcommand("table", "Latency-table tools");
  table->require_subcommand(1);
  {
    auto* cmd = table->add_subcommand("import-ofa", "Convert Once-for-All's YAML latency tables into an hwnas table");
    auto a = std::make_shared<ImportOfaArgs>();
    cmd->add_option("--dir", a->dir, "Folder with <resolution>_lookup_table.yaml files")->required();
    cmd->add_option("--device-name", a->device, "Device name for the table")->capture_default_str();
    cmd->add_option("--out,-o", a->out, "Table file to write")->required();
    add_overwrite_flag(*cmd, a->overwrite);
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_import_ofa(ctx, *a); }; });
  }
  {
    auto* cmd = table->add_subcommand("import-kit", "Build a latency table from a profiling kit measured on a device "
                                                    "(hwnas profile --kit, then a kit runner), calibrated on its whole networks");
    auto a = std::make_shared<ImportKitArgs>();
    cmd->add_option("--kit", a->kit, "The kit folder hwnas profile --kit wrote")->required();
    cmd->add_option("--results", a->results, "The runner's results file (JSON Lines, docs/cost-models.md)")->required();
    cmd->add_option("--out,-o", a->out, "Table file to write")->required();
    cmd->add_option("--device-name", a->device, "Device name for the table, latency@<name> in searches (default: the runtime's name)");
    cmd->add_option("--holdout", a->holdout, "Whole networks kept out of the calibration fit to report on (default: half)")
        ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
    add_learned_args(*cmd, a->learned, "the ratio of the kit's networks to the calibrated table");
    add_overwrite_flag(*cmd, a->overwrite);
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_import_kit(ctx, *a); }; });
  }
}

// --- hwnas calibrate --------------------------------------------------------------------

struct CalibrateArgs {
  SpaceArgs space;
  TimingArgs timing;
  std::string table, csv, save, json;
  int64_t n = 100;
  uint64_t seed = 0;
  bool fit = false, overwrite = false;
  LearnedArgs learned;
};

void run_calibrate(Context& ctx, const CalibrateArgs& a) {
  for (const auto& [path, what] : {std::pair{a.save, "calibrated table (--save)"},
                                   std::pair{a.learned.save, "learned latency model (--save-learned)"},
                                   std::pair{a.json, "report (--json)"}})
    if (!path.empty()) check_output_free(path, a.overwrite, what);
  HWNAS_CHECK_T(ConfigError, a.save.empty() || a.fit, "--save needs --fit");
  check_learned_args(a.learned);
  HWNAS_CHECK_T(ConfigError, !a.table.empty() || !a.learned.predictor.empty(), "give --table (a latency table to "
                "check), or --learned PREDICTOR to learn the latency without one");
  HWNAS_CHECK_T(ConfigError, !a.table.empty() || !a.fit, "--fit corrects a table: give --table");
  auto s = shared_space(a.space);
  // Read before measuring: a bad table is refused at once.
  const std::shared_ptr<const cost::LatencyTable> t = a.table.empty() ? nullptr : load_table(a.table);
  std::vector<cost::Measurement> ms;
  std::string measured_by;
  if (!a.csv.empty()) {
    ms = cost::read_measurements_csv(a.csv, *s);
    measured_by = a.csv;
  } else {
    measured_by = fmt::format("measured by hwnas calibrate: {} random archs (seed {}) on {}", a.n, a.seed,
                              a.timing.options().device_name());
    Rng rng(a.seed);
    Progress bar(*ctx.err, "measure");
    for (int64_t i = 0; i < a.n; ++i) {
      auto arch = s->sample(rng);
      ms.push_back({arch, cost::measure_network(*s, arch, a.timing.options()).mean_ms});
      bar.update(i + 1, a.n);
    }
  }
  auto& o = *ctx.out;
  nlohmann::json out = {{"space", s->name()}};
  HWNAS_CHECK_T(ConfigError, (!a.fit && a.learned.predictor.empty()) || ms.size() >= 6,
                "--fit and --learned need at least 6 measured archs (half to fit, half to check)");
  const size_t half = ms.size() / 2;
  const std::vector<cost::Measurement> train(ms.begin(), ms.begin() + static_cast<long>(half)),
      test(ms.begin() + static_cast<long>(half), ms.end());
  std::shared_ptr<cost::LatencyModel> table_model;
  if (t) {
    table_model = std::make_shared<cost::LatencyModel>(t, s, cost::LatencyOptions().use_calibration(false));
    const auto before = cost::evaluate_table(*table_model, ms);
    print_report(o, "table sum vs measured", before);
    out["table"] = a.table;
    out["uncalibrated"] = before.to_json();
  }
  if (a.fit) {
    auto fitted = std::make_shared<cost::LatencyTable>(*t);
    cost::fit_calibration(*fitted, s, train);
    const auto held_before = cost::evaluate_table(cost::LatencyModel(t, s, cost::LatencyOptions().use_calibration(false)), test);
    const auto held_after = cost::evaluate_table(cost::LatencyModel(fitted, s), test);
    print_report(o, "held-out, before calibration", held_before);
    print_report(o, "held-out, after calibration", held_after);
    o << fmt::format("correction: offset {:.4f} ms", fitted->calibration_offset_ms);
    for (const auto& [k, v] : fitted->calibration_scale)
      o << fmt::format(", {} x{:.3f} {:+.4f} ms/layer", k, v, fitted->calibration_per_layer[k]);
    o << "\n";
    out["held_out_uncalibrated"] = held_before.to_json();
    out["held_out_calibrated"] = held_after.to_json();
    out["correction"] = {{"offset_ms", fitted->calibration_offset_ms}, {"scale", fitted->calibration_scale},
                         {"per_layer_ms", fitted->calibration_per_layer}};
    if (!a.save.empty()) {
      fitted->save(a.save);
      o << "calibrated table written to " << a.save << "\n";
    }
    table_model = std::make_shared<cost::LatencyModel>(fitted, s);
  }
  if (!a.learned.predictor.empty()) {
    const auto kit = t && t->source.is_object() && t->source.contains("kit") && t->source["kit"].is_string()
                         ? t->source["kit"].get<std::string>() : std::string();
    out["learned"] = fit_learned(o, a.learned, s, table_model, a.fit && !a.save.empty() ? a.save : a.table, train,
                                 test, {measured_by, kit, 0, nullptr});
  }
  if (!a.json.empty()) write_file_atomic(a.json, out.dump(2) + "\n");
}

void add_calibrate_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("calibrate", "Check a latency table against whole-network measurements; optionally fit a correction");
  auto a = std::make_shared<CalibrateArgs>();
  add_space_args(*cmd, a->space);
  add_timing_args(*cmd, a->timing);
  cmd->add_option("--table,-t", a->table, "Latency table (JSON); without one, --learned learns the latency itself");
  cmd->add_option("-n,--num", a->n, "Random archs to measure")->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{100000}));
  add_seed_option(*cmd, a->seed, "Seed of the sampled archs");
  cmd->add_option("--measurements", a->csv, "Use these whole-network measurements (CSV: arch,latency_ms) instead of measuring here");
  cmd->add_flag("--fit", a->fit, "Fit a correction on half the archs and report on the other half");
  cmd->add_option("--save", a->save, "With --fit: write the calibrated table here");
  cmd->add_option("--json", a->json, "Also write the report as JSON to this file");
  add_learned_args(*cmd, a->learned, "the ratio measured / table, or on the latency without --table, (half the archs)");
  add_overwrite_flag(*cmd, a->overwrite);
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_calibrate(ctx, *a); }; });
}

}  // namespace

void add_cost_commands(CLI::App& app, Context& ctx) {
  add_profile_command(app, ctx);
  add_measure_command(app, ctx);
  add_latency_command(app, ctx);
  add_table_commands(app, ctx);
  add_calibrate_command(app, ctx);
}

}  // namespace hwnas::cli

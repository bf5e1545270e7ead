// hwnas profile | measure | latency | table | calibrate
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <ostream>

#include <nlohmann/json.hpp>

#include "cli/context.h"
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

struct TimingArgs {
  int threads = 1;
  int64_t batch = 1, warmup = 3, runs = 10;
  double min_time = 0.1;
  std::string device = "cpu", device_name;
  cost::ProfileOptions options() const {
    return cost::ProfileOptions()
        .threads(threads)
        .batch(batch)
        .device(device)
        .device_name(device_name.empty() ? device : device_name)
        .timing(cost::TimingOptions().warmup(warmup).min_runs(runs).max_runs(std::max<int64_t>(runs, 1000)).min_seconds(min_time));
  }
};

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

}  // namespace

void add_cost_commands(CLI::App& app, Context& ctx) {
  // hwnas profile
  {
    auto* cmd = app.add_subcommand("profile", "Time every distinct layer of a space on this device into a latency table "
                                              "(--out), or write a profiling kit for another device (--kit)");
    auto space = std::make_shared<SpaceArgs>();
    auto timing = std::make_shared<TimingArgs>();
    auto out = std::make_shared<std::string>();
    auto resume = std::make_shared<bool>(false);
    auto limit = std::make_shared<int64_t>(0);
    auto kit = std::make_shared<exporting::KitOptions>();
    auto kit_dir = std::make_shared<std::string>();
    auto archs = std::make_shared<int64_t>(kit->archs());
    auto networks = std::make_shared<std::vector<std::string>>();
    auto repetitions = std::make_shared<int64_t>(kit->protocol().repetitions());
    auto opset = std::make_shared<int64_t>(kit->opset());
    add_space_args(*cmd, *space);
    add_timing_args(*cmd, *timing);
    cmd->add_option("--out,-o", *out, "Table file to write (JSON)");
    cmd->add_flag("--resume", *resume, "Continue an interrupted table at --out");
    auto overwrite = std::make_shared<bool>(false);
    add_overwrite_flag(*cmd, *overwrite);
    cmd->add_option("--limit", *limit, "Stop after this many new layers (0: all); resume later")->check(CLI::Range(int64_t{0}, int64_t{100000000}));
    cmd->add_option("--kit", *kit_dir, "Instead of timing here: write a profiling kit to this folder (every layer and "
                                       "--archs whole networks as ONNX and TorchScript, a manifest; docs/cost-models.md)");
    cmd->add_option("--archs", *archs, "--kit: whole networks of random archs, to calibrate against")
        ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{100000}));
    cmd->add_option("--network", *networks, "--kit: also this arch as a whole network, before the random ones "
                                            "(repeatable; e.g. a search's winner, to measure it on the device)");
    cmd->add_option("--repetitions", *repetitions, "--kit: timed runs per model the kit's runners make (--warmup: untimed)")
        ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000000}));
    cmd->add_option("--opset", *opset, "--kit: ONNX opset, 13 to 17")->capture_default_str()->check(CLI::Range(int64_t{13}, int64_t{17}));
    cmd->callback([&ctx, cmd, space, timing, out, resume, limit, overwrite, kit, kit_dir, archs, networks, repetitions, opset] {
      // Refused when the command runs (exit 2 with one line), like every bad input.
      const bool timing_flags = *resume || *limit != 0 || cmd->count("--runs") > 0 || cmd->count("--min-time") > 0;
      std::string misuse;
      if (out->empty() && kit_dir->empty())
        misuse = "hwnas profile: give --out TABLE.json (time this device) or --kit DIR (a kit for another device)";
      else if (!out->empty() && !kit_dir->empty())
        misuse = "hwnas profile: give --out or --kit, not both";
      else if (kit_dir->empty() && !networks->empty())
        misuse = "hwnas profile: --network is for --kit (a whole network in a kit for another device); give --kit DIR";
      else if (!kit_dir->empty() && timing_flags)
        misuse = "hwnas profile --kit writes models and times nothing: --resume, --limit, --runs and --min-time are for "
                 "--out; give the kit's runners --warmup and --repetitions";
      if (!misuse.empty()) {
        ctx.action = [misuse] { throw ConfigError(misuse); };
        return;
      }
      if (!kit_dir->empty()) {
        const int64_t warmup = cmd->count("--warmup") ? timing->warmup : kit->protocol().warmup();
        ctx.action = [&ctx, space, timing, overwrite, kit, kit_dir, archs, networks, repetitions, opset, warmup] {
          auto s = space->make();
          Progress bar(*ctx.err, "kit " + s->name());
          auto o = exporting::KitOptions(*kit)
                       .dir(*kit_dir)
                       .archs(*archs)
                       .networks(*networks)
                       .batch(timing->batch)
                       .opset(*opset)
                       .overwrite(*overwrite)
                       .protocol(exporting::KitProtocol().warmup(warmup).repetitions(*repetitions))
                       .on_progress([&bar](int64_t done, int64_t total, const std::string&) { bar.update(done, total); });
          const auto r = exporting::write_profiling_kit(*s, o);
          *ctx.out << fmt::format("profiling kit of space {} in {}: {} layers and {} whole networks as TorchScript and "
                                  "ONNX (batch {}), fingerprint {}{}\n",
                                  s->name(), r.dir, r.layers, r.networks, timing->batch, r.fingerprint,
                                  r.skipped_kinds.empty() ? "" : fmt::format("; {} layers cost nothing and are left out",
                                                                             fmt::join(r.skipped_kinds, " and ")));
        };
        return;
      }
      ctx.action = [&ctx, space, timing, out, resume, limit, overwrite] {
        auto s = space->make();
        Progress bar(*ctx.err, "profile " + s->name());
        auto opts = timing->options().out(*out).resume(*resume).overwrite(*overwrite).max_new_entries(*limit).on_progress(
            [&bar](int64_t done, int64_t total, const std::string&) { bar.update(done, total); });
        const auto universe = s->layer_universe().size();
        auto table = cost::profile_space(*s, opts);
        *ctx.out << fmt::format("{} of {} layers of space {} in {} (device {}, {} threads, batch {})\n", table.size(),
                                universe, s->name(), *out, table.device.name, table.device.threads, table.device.batch);
      };
    });
  }
  // hwnas measure
  {
    auto* cmd = app.add_subcommand("measure", "Time a whole network on this device");
    auto space = std::make_shared<SpaceArgs>();
    auto timing = std::make_shared<TimingArgs>();
    auto arch = std::make_shared<std::string>();
    add_space_args(*cmd, *space);
    add_timing_args(*cmd, *timing);
    cmd->add_option("--arch,-a", *arch, "The architecture's canonical string")->required();
    cmd->callback([&ctx, space, timing, arch] {
      ctx.action = [&ctx, space, timing, arch] {
        auto s = space->make();
        auto t = cost::measure_network(*s, s->parse(*arch), timing->options());
        *ctx.out << fmt::format("mean {:.4f} ms  std {:.4f}  median {:.4f}  runs {} (outliers dropped {})\n", t.mean_ms,
                                t.std_ms, t.median_ms, t.count, t.outliers);
      };
    });
  }
  // hwnas latency
  {
    auto* cmd = app.add_subcommand("latency", "Predict an architecture's latency from a table");
    auto space = std::make_shared<SpaceArgs>();
    auto table = std::make_shared<std::string>();
    auto arch = std::make_shared<std::string>();
    auto fallback = std::make_shared<std::string>("error");
    auto metric = std::make_shared<std::string>("mean_ms");
    add_space_args(*cmd, *space);
    cmd->add_option("--table,-t", *table, "Latency table (JSON)")->required();
    cmd->add_option("--arch,-a", *arch, "The architecture's canonical string")->required();
    cmd->add_option("--fallback", *fallback, "Missing layers: error or nearest")->check(CLI::IsMember({"error", "nearest"}))->capture_default_str();
    cmd->add_option("--metric", *metric, "mean_ms or an extra metric of the table")->capture_default_str();
    cmd->callback([&ctx, space, table, arch, fallback, metric] {
      ctx.action = [&ctx, space, table, arch, fallback, metric] {
        auto s = shared_space(*space);
        cost::LatencyModel model(load_table(*table), s,
                                 cost::LatencyOptions()
                                     .fallback(*fallback == "nearest" ? cost::Fallback::kNearest : cost::Fallback::kError)
                                     .metric(*metric));
        auto a = s->parse(*arch);
        *ctx.out << fmt::format("{} {:.4f}\n", model.name(), model.predict(a));
        for (const auto& [kind, v] : model.by_kind(a)) *ctx.out << fmt::format("  {:<20} {:.4f}\n", kind, v);
      };
    });
  }
  auto* cmd_table = app.add_subcommand("table", "Latency-table tools");
  // hwnas table import-ofa
  {
    cmd_table->require_subcommand(1);
    auto* imp = cmd_table->add_subcommand("import-ofa", "Convert Once-for-All's YAML latency tables into an hwnas table");
    auto dir = std::make_shared<std::string>();
    auto device = std::make_shared<std::string>("note10");
    auto out = std::make_shared<std::string>();
    auto overwrite = std::make_shared<bool>(false);
    imp->add_option("--dir", *dir, "Folder with <resolution>_lookup_table.yaml files")->required();
    imp->add_option("--device-name", *device, "Device name for the table")->capture_default_str();
    imp->add_option("--out,-o", *out, "Table file to write")->required();
    add_overwrite_flag(*imp, *overwrite);
    imp->callback([&ctx, dir, device, out, overwrite] {
      ctx.action = [&ctx, dir, device, out, overwrite] {
        check_output_free(*out, *overwrite, "latency table");
        auto t = cost::LatencyTable::from_ofa_yaml(*dir, *device);
        t.save(*out);
        *ctx.out << fmt::format("{} entries in {} resolution sections written to {} (use with --space ofa "
                                "--space-config '{{\"width_mult\": 1.2}}')\n", t.size(), t.sections.size(), *out);
      };
    });
  }
  // hwnas table import-kit
  {
    auto* imp = cmd_table->add_subcommand("import-kit", "Build a latency table from a profiling kit measured on a device "
                                                        "(hwnas profile --kit, then a kit runner), calibrated on its whole networks");
    auto kit = std::make_shared<std::string>();
    auto results = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto device = std::make_shared<std::string>();
    auto holdout = std::make_shared<int64_t>(-1);
    auto overwrite = std::make_shared<bool>(false);
    imp->add_option("--kit", *kit, "The kit folder hwnas profile --kit wrote")->required();
    imp->add_option("--results", *results, "The runner's results file (JSON Lines, docs/cost-models.md)")->required();
    imp->add_option("--out,-o", *out, "Table file to write")->required();
    imp->add_option("--device-name", *device, "Device name for the table, latency@<name> in searches (default: the runtime's name)");
    imp->add_option("--holdout", *holdout, "Whole networks kept out of the calibration fit to report on (default: half)")
        ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
    auto learned = std::make_shared<LearnedArgs>();
    add_learned_args(*imp, *learned, "the ratio of the kit's networks to the calibrated table");
    add_overwrite_flag(*imp, *overwrite);
    imp->callback([&ctx, kit, results, out, device, holdout, learned, overwrite] {
      ctx.action = [&ctx, kit, results, out, device, holdout, learned, overwrite] {
        check_output_free(*out, *overwrite, "latency table");
        if (!learned->save.empty()) check_output_free(learned->save, *overwrite, "learned latency model (--save-learned)");
        check_learned_args(*learned);
        const auto k = exporting::ProfilingKit::load(*kit);
        const auto r = exporting::KitResults::load(*results);
        const auto imported = exporting::import_kit(k, r, exporting::KitImportOptions().device_name(*device).holdout(*holdout));
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
        if (!learned->predictor.empty()) {
          HWNAS_CHECK_T(ConfigError, imported.calibrated && imported.held_out >= 2, "--learned fits on a kit's whole "
                        "networks and reports on held-out ones: give a kit with networks (hwnas profile --kit --archs N) "
                        "and --holdout 2 or more (here ", imported.held_out, " of ", imported.fitted_on + imported.held_out,
                        " are held out)");
          std::shared_ptr<const SearchSpace> s(make_space(k.space, k.space_config));
          fit_learned(o, *learned, s, std::make_shared<cost::LatencyModel>(std::make_shared<cost::LatencyTable>(t), s),
                      *out, imported.fit_networks, imported.check_networks,
                      {fmt::format("{} ({} networks of the kit)", r.source, imported.fitted_on), k.fingerprint, 0, nullptr});
        }
        t.save(*out);
        o << fmt::format("latency table latency@{} written to {}\n", t.device.name, *out);
      };
    });
  }
  // hwnas calibrate
  {
    auto* cmd = app.add_subcommand("calibrate", "Check a latency table against whole-network measurements; optionally fit a correction");
    auto space = std::make_shared<SpaceArgs>();
    auto timing = std::make_shared<TimingArgs>();
    auto table = std::make_shared<std::string>();
    auto n = std::make_shared<int64_t>(100);
    auto seed = std::make_shared<uint64_t>(0);
    auto csv = std::make_shared<std::string>();
    auto fit = std::make_shared<bool>(false);
    auto save = std::make_shared<std::string>();
    auto json = std::make_shared<std::string>();
    auto learned = std::make_shared<LearnedArgs>();
    auto overwrite = std::make_shared<bool>(false);
    add_space_args(*cmd, *space);
    add_timing_args(*cmd, *timing);
    cmd->add_option("--table,-t", *table, "Latency table (JSON); without one, --learned learns the latency itself");
    cmd->add_option("-n,--num", *n, "Random archs to measure")->capture_default_str()->check(CLI::Range(int64_t{2}, int64_t{100000}));
    add_seed_option(*cmd, *seed, "Seed of the sampled archs");
    cmd->add_option("--measurements", *csv, "Use these whole-network measurements (CSV: arch,latency_ms) instead of measuring here");
    cmd->add_flag("--fit", *fit, "Fit a correction on half the archs and report on the other half");
    cmd->add_option("--save", *save, "With --fit: write the calibrated table here");
    cmd->add_option("--json", *json, "Also write the report as JSON to this file");
    add_learned_args(*cmd, *learned, "the ratio measured / table, or on the latency without --table, (half the archs)");
    add_overwrite_flag(*cmd, *overwrite);
    cmd->callback([&ctx, space, timing, table, n, seed, csv, fit, save, json, learned, overwrite] {
      ctx.action = [&ctx, space, timing, table, n, seed, csv, fit, save, json, learned, overwrite] {
        for (const auto& [path, what] : {std::pair{*save, "calibrated table (--save)"},
                                         std::pair{learned->save, "learned latency model (--save-learned)"},
                                         std::pair{*json, "report (--json)"}})
          if (!path.empty()) check_output_free(path, *overwrite, what);
        HWNAS_CHECK_T(ConfigError, save->empty() || *fit, "--save needs --fit");
        check_learned_args(*learned);
        HWNAS_CHECK_T(ConfigError, !table->empty() || !learned->predictor.empty(), "give --table (a latency table to "
                      "check), or --learned PREDICTOR to learn the latency without one");
        HWNAS_CHECK_T(ConfigError, !table->empty() || !*fit, "--fit corrects a table: give --table");
        auto s = shared_space(*space);
        // Read before measuring: a bad table is refused at once.
        const std::shared_ptr<const cost::LatencyTable> t = table->empty() ? nullptr : load_table(*table);
        std::vector<cost::Measurement> ms;
        std::string measured_by;
        if (!csv->empty()) {
          ms = cost::read_measurements_csv(*csv, *s);
          measured_by = *csv;
        } else {
          measured_by = fmt::format("measured by hwnas calibrate: {} random archs (seed {}) on {}", *n, *seed,
                                    timing->options().device_name());
          Rng rng(*seed);
          Progress bar(*ctx.err, "measure");
          for (int64_t i = 0; i < *n; ++i) {
            auto a = s->sample(rng);
            ms.push_back({a, cost::measure_network(*s, a, timing->options()).mean_ms});
            bar.update(i + 1, *n);
          }
        }
        auto& o = *ctx.out;
        nlohmann::json out = {{"space", s->name()}};
        HWNAS_CHECK_T(ConfigError, (!*fit && learned->predictor.empty()) || ms.size() >= 6,
                      "--fit and --learned need at least 6 measured archs (half to fit, half to check)");
        const size_t half = ms.size() / 2;
        const std::vector<cost::Measurement> train(ms.begin(), ms.begin() + static_cast<long>(half)),
            test(ms.begin() + static_cast<long>(half), ms.end());
        std::shared_ptr<cost::LatencyModel> table_model;
        if (t) {
          table_model = std::make_shared<cost::LatencyModel>(t, s, cost::LatencyOptions().use_calibration(false));
          const auto before = cost::evaluate_table(*table_model, ms);
          print_report(o, "table sum vs measured", before);
          out["table"] = *table;
          out["uncalibrated"] = before.to_json();
        }
        if (*fit) {
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
          if (!save->empty()) {
            fitted->save(*save);
            o << "calibrated table written to " << *save << "\n";
          }
          table_model = std::make_shared<cost::LatencyModel>(fitted, s);
        }
        if (!learned->predictor.empty()) {
          const auto kit = t && t->source.is_object() && t->source.contains("kit") && t->source["kit"].is_string()
                               ? t->source["kit"].get<std::string>() : std::string();
          out["learned"] = fit_learned(o, *learned, s, table_model, *fit && !save->empty() ? *save : *table, train,
                                       test, {measured_by, kit, 0, nullptr});
        }
        if (!json->empty()) write_file_atomic(*json, out.dump(2) + "\n");
      };
    });
  }
}

}  // namespace hwnas::cli

// hwnas train: final training of one arch (or a search's winner) with the standard recipe;
// hwnas export: a trained run as TorchScript and ONNX, with the arch, costs and summary.
#include "cli/deploy.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <limits>
#include <map>
#include <ostream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cli/interrupt.h"
#include "cli/progress.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/core/run_directory.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/data/registry.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/export/exporter.h"
#include "hwnas/nn/network.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/train/final_training.h"
#include "hwnas/train/trained_run.h"
#include "hwnas/version.h"

namespace hwnas::cli {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& path) {
  return read_json_file(path.string(), "run file");
}

// The arch to train: --space/--arch, or the best arch of a search run.
struct Target {
  std::string space;
  nlohmann::json space_config;
  std::string arch;
};

Target target_of(const TrainArgs& a) {
  if (a.from_search.empty()) {
    HWNAS_CHECK_T(ConfigError, !a.arch.empty(), "hwnas train needs --arch (with --space) or --from-search RUN_DIR");
    return {a.space.name, a.space.config.empty() ? nlohmann::json::object() : parse_json_arg(a.space.config, "--space-config"),
            a.arch};
  }
  HWNAS_CHECK_T(ConfigError, a.arch.empty(), "give either --arch or --from-search, not both");
  const fs::path dir(a.from_search);
  HWNAS_CHECK_T(NotFoundError, fs::exists(dir / "best.json") && fs::exists(dir / "config.json"), "'", a.from_search,
                "' is not a finished search run (no best.json and config.json); run `hwnas search -c CONFIG -o ",
                a.from_search, "` first");
  const auto config = read_json(dir / "config.json");
  const auto best = read_json(dir / "best.json");
  HWNAS_CHECK_T(DataError, config.contains("space") && best.contains("arch"), "'", a.from_search,
                "' has a config.json without \"space\" or a best.json without \"arch\"");
  const auto& space = config.at("space");
  return {space.at("name").get<std::string>(), space.value("config", nlohmann::json::object()),
          best.at("arch").get<std::string>()};
}

std::pair<data::Dataset, data::Dataset> load_train_test(const TrainArgs& a) {
  const auto spec = a.data.spec();
  auto request = data::DataRequest().dir(a.data.dir).seed(a.seed).limit(a.train_size);
  auto train = data::load_dataset(a.data.name, spec.at("config"), request);
  request.train(false);
  request.limit(a.test_size);
  request.train_input(train.input);  // the test part is normalised as the training part
  auto test = data::load_dataset(a.data.name, spec.at("config"), request);
  const std::tuple<const char*, int64_t, const data::Dataset*, const char*> sizes[] = {
      {"--train-size", a.train_size, &train, "training"}, {"--test-size", a.test_size, &test, "test"}};
  for (const auto& [flag, asked, got, part] : sizes)
    HWNAS_CHECK_T(ConfigError, got->size() >= asked, flag, " is ", asked, " but dataset '", a.data.name, "' has ",
                  got->size(), " ", part, " samples; give at most ", got->size(), " (0: all)");
  return {train, test};
}

nlohmann::json costs_of(const std::shared_ptr<const SearchSpace>& space, const Arch& arch,
                        const std::vector<std::string>& tables) {
  const auto cost = cost::network_cost(space->layers(arch));
  nlohmann::json latency = nlohmann::json::object();
  for (const auto& path : tables) {
    const auto table = std::make_shared<const cost::LatencyTable>(cost::LatencyTable::load(path));
    const cost::LatencyModel model(table, space);
    latency[table->device.name] = nlohmann::json{{"ms", model.predict(arch)}, {"table", fs::absolute(path).string()}};
  }
  return {{"params", cost.params}, {"macs", cost.macs}, {"latency_ms", latency}};
}

}  // namespace

nlohmann::json run_train(Context& ctx, const TrainArgs& a) {
  auto& o = *ctx.out;
  const auto target = target_of(a);
  const fs::path out(a.out);
  const auto [train, test] = load_train_test(a);
  const auto space = estimate::fit_space_to_data(target.space, target.space_config, train);
  const auto arch = space->parse(target.arch);
  // From scratch, or (fine-tune) from the trained supernet's weights of this arch.
  auto net = a.supernet.empty() ? space->build(arch, BuildOptions().seed(a.seed)) : estimate::load_supernet(*space, a.supernet)->extract(arch);
  const nlohmann::json arch_file{{"space", space->name()},
                                 {"space_config", space->config()},
                                 {"arch", arch.str()},
                                 {"arch_json", arch.to_json()},
                                 {"input_shape", {space->input_shape_of(arch).c, space->input_shape_of(arch).h,
                                                  space->input_shape_of(arch).w}}};
  const auto fingerprint = arch_file.dump();
  auto options = train::FinalTrainingOptions()
                           .epochs(a.epochs).batch_size(a.batch_size).steps_per_epoch(a.steps_per_epoch).lr(a.lr)
                           .warmup_epochs(a.warmup_epochs).weight_decay(a.weight_decay)
                           .label_smoothing(a.label_smoothing).auxiliary_weight(a.aux_weight).drop_path(a.drop_path)
                           .augment(!a.no_augment).seed(a.seed).checkpoint_dir((out / "checkpoint").string())
                           .workers(a.workers)
                           .resume(a.resume).fingerprint(fingerprint + (a.supernet.empty() ? "" : " from " + a.supernet));
  if (!a.augment.empty())
    options.augmentation(data::Augmentation::from_json(parse_json_arg(a.augment, "--augment"), "--augment"));
  options.validate();  // before anything is written
  const RunDirectory run_dir(a.out, output_mode(a.resume, a.overwrite),
                             {"training", RunDirectory::has_any({"arch.json", "checkpoint"})});
  write_file_atomic((out / "arch.json").string(), arch_file.dump(2) + "\n");
  o << fmt::format("train: {} {} on {} ({} train / {} test images), {} epochs{}\n", space->name(), arch.str(), a.data.name,
                   train.size(), test.size(), a.epochs, a.supernet.empty() ? "" : ", from supernet " + a.supernet);
  Progress bar(*ctx.err, "train", a.no_progress);
  SigintGuard guard;
  auto result = train::train_final(
      *net, train, &test,
      train::FinalTrainingOptions(options)
          .on_progress([&](const train::FinalProgress& p) {
            bar.update((p.epoch - 1) * p.steps + p.step, p.epochs * p.steps,
                       fmt::format(" epoch {}/{} loss {:.4f} acc {:.3f}", p.epoch, p.epochs, p.loss, p.accuracy));
          })
          .on_epoch([&](const train::EpochRecord& r) {
            o << fmt::format("epoch {}: train loss {:.4f} acc {:.4f}, test loss {:.4f} acc {:.4f}, lr {:.4g}, {:.1f} s\n",
                             r.epoch, r.train_loss, r.train_accuracy, r.test_loss, r.test_accuracy, r.lr, r.seconds);
          })
          .should_stop([] { return stop_requested().load(); }));
  if (result.resumed_from > 0) o << fmt::format("resumed after epoch {}\n", result.resumed_from);
  if (result.resumed_from == a.epochs && fs::exists(out / "weights.pt") && fs::exists(out / "train.json")) {
    o << fmt::format("already trained: {} (test accuracy {:.4f}); nothing to do\n", (out / "train.json").string(),
                     result.test_accuracy);
    return read_json(out / "train.json");
  }
  if (result.stopped) {
    o << fmt::format("stopped during epoch {}; continue with the same command and --resume\n",
                     result.history.size() + 1);
    ctx.exit_code = 130;
    return nullptr;
  }
  train::save_weights(*net, (out / "weights.pt").string());
  nlohmann::json summary{{"hwnas_version", kVersion},
                         {"space", space->name()},
                         {"space_config", space->config()},
                         {"arch", arch.str()},
                         {"data", {{"name", a.data.name},
                                   {"train_size", train.size()},
                                   {"test_size", test.size()},
                                   {"skipped", train.skipped + test.skipped},
                                   {"input", train.input}}},
                         {"recipe", options.to_json()},
                         {"fine_tuned_from", a.supernet.empty() ? nlohmann::json() : nlohmann::json(a.supernet)},
                         {"result", result.to_json()},
                         {"costs", costs_of(space, arch, {})}};
  write_file_atomic((out / "train.json").string(), summary.dump(2) + "\n");
  o << fmt::format("test accuracy {:.4f} (loss {:.4f}); weights {}, summary {}\n", result.test_accuracy,
                   result.test_loss, (out / "weights.pt").string(), (out / "train.json").string());
  return summary;
}

// model.json's "input": the tensor the network takes and, when the training data said, the
// input contract: how a raw sample becomes that tensor (decoding, resizing, normalisation).
nlohmann::json input_of(const train::TrainedRun& run, const Shape& shape) {
  nlohmann::json input{{"name", "input"}, {"shape", {"batch", shape.c, shape.h, shape.w}}, {"dtype", "float32"}};
  const auto contract = run.summary.is_object() ? run.summary.value("data", nlohmann::json::object()).value("input", nlohmann::json())
                                                : nlohmann::json();
  if (contract.is_object())
    for (const auto& [key, value] : contract.items())
      if (!input.contains(key)) input[key] = value;
  return input;
}

nlohmann::json run_export(Context& ctx, const ExportArgs& a) {
  auto& o = *ctx.out;
  std::vector<std::pair<std::string, std::unique_ptr<exporting::Exporter>>> exporters;
  std::map<std::string, std::string> writers{{"model.json", "the metadata"}};  // file name -> its writer
  for (const auto& format : a.formats) {
    auto exporter = exporting::exporter_registry().create(
        format, format == "onnx" ? nlohmann::json{{"opset", a.opset}} : nlohmann::json::object());
    const auto [it, fresh] = writers.emplace(exporter->file_name(), format);
    HWNAS_CHECK_T(ConfigError, fresh, "--format: '", format, "' and '", it->second, "' both write ",
                  exporter->file_name(), "; give each format once");
    exporters.emplace_back(format, std::move(exporter));
  }
  const auto trained = train::TrainedRun::open(a.run);
  const fs::path run(trained.dir);
  const fs::path final_out = a.out.empty() ? run / "export" : fs::path(a.out);
  // Every file goes to a staging folder that replaces the output only when all are
  // written and checked: a failed export leaves no half output and the old one intact.
  StagedDirectory staged(final_out.string(), a.overwrite);
  const fs::path out(staged.path());
  const auto& space = trained.space;
  const auto& arch = trained.arch;
  auto net = trained.network();
  const auto input = space->input_shape_of(arch);

  nlohmann::json files = nlohmann::json::object();
  for (const auto& [format, exporter] : exporters) {
    const auto done = exporter->save(*net, input, (out / exporter->file_name()).string());
    files[format] = done.report;
    files[format]["file"] = exporter->file_name();
    o << fmt::format("{}: {} ({})\n", exporter->label(), (final_out / exporter->file_name()).string(), done.summary);
  }
  nlohmann::json meta{{"hwnas_version", kVersion},
                      {"space", space->name()},
                      {"space_config", space->config()},
                      {"arch", arch.str()},
                      {"arch_json", arch.to_json()},
                      {"input", input_of(trained, input)},
                      {"output", {{"name", "logits"}}},
                      {"costs", costs_of(space, arch, a.tables)},
                      {"training", trained.summary},
                      {"files", files}};
  write_file_atomic((out / "model.json").string(), meta.dump(2) + "\n");
  staged.commit();
  o << fmt::format("metadata: {} (arch, costs, training summary, hwnas {})\n", (final_out / "model.json").string(),
                   kVersion);
  return meta;
}

void add_deploy_commands(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<TrainArgs>();
    auto* cmd = app.add_subcommand("train", "Train one arch (or a search's best) with the standard recipe; "
                                            "checkpoints every epoch, --resume");
    add_space_args(*cmd, a->space);
    cmd->add_option("--arch,-a", a->arch, "Architecture (canonical string)");
    cmd->add_option("--from-search", a->from_search, "Train the best arch of this search run directory");
    add_data_source_args(*cmd, a->data);
    cmd->add_option("--train-size", a->train_size, "Training images (0: the whole training part)")->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
    cmd->add_option("--test-size", a->test_size, "Test images (0: the whole test part)")->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
    cmd->add_option("--epochs,-e", a->epochs, "Epochs")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{100000}));
    cmd->add_option("--steps-per-epoch", a->steps_per_epoch, "Cap on the steps of an epoch (0: full passes)")
        ->capture_default_str()->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
    cmd->add_option("--batch-size", a->batch_size, "Batch size")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{65536}));
    cmd->add_option("--lr", a->lr, "Peak learning rate (after the warm-up; cosine decay to 0)")->capture_default_str()
        ->check(finite_range(1e-8, 100.0));
    cmd->add_option("--warmup-epochs", a->warmup_epochs,
                    "Epochs of linear warm-up, fewer than --epochs (-1: one when there are two or more)")
        ->capture_default_str()->check(CLI::Range(int64_t{-1}, int64_t{100000}));
    cmd->add_option("--weight-decay", a->weight_decay, "Weight decay")->capture_default_str()->check(finite_range(0.0, 1.0));
    cmd->add_option("--label-smoothing", a->label_smoothing, "Label smoothing")->capture_default_str()->check(finite_range(0.0, 0.99));
    cmd->add_option("--drop-path", a->drop_path, "Final drop-path probability (DARTS cells)")->capture_default_str()
        ->check(finite_range(0.0, 0.99));
    cmd->add_option("--aux-weight", a->aux_weight, "Auxiliary head's loss weight (DARTS with \"auxiliary\": true)")
        ->capture_default_str()->check(finite_range(0.0, 100.0));
    cmd->add_flag("--no-augment", a->no_augment, "No augmentation");
    cmd->add_option("--augment", a->augment, "Augmentation as JSON or @file (default: {\"pad\": -1, \"flip\": true}): "
                    "\"pad\" (random crop of the padded image; -1: 1/14 of the side), \"resized_crop_min\" (area "
                    "fraction), \"flip\", \"cutout\" (side)");
    cmd->add_option("--workers", a->workers, "Threads reading and augmenting batches (-1: one per core when the data "
                    "is streamed or augmented)")->capture_default_str()->check(CLI::Range(int64_t{-1}, int64_t{256}));
    cmd->add_option("--supernet", a->supernet, "Fine-tune: start from this trained supernet's weights "
                    "(`hwnas train-supernet` output) instead of from scratch");
    add_seed_option(*cmd, a->seed, "Seed");
    cmd->add_option("--out,-o", a->out, "Run directory: arch.json, checkpoint/, weights.pt, train.json")->required();
    cmd->add_flag("--resume", a->resume, "Continue the training checkpointed in --out");
    cmd->add_flag("--overwrite", a->overwrite, "Replace the training run in --out");
    cmd->add_flag("--no-progress", a->no_progress, "No progress bar");
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_train(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<ExportArgs>();
    auto* cmd = app.add_subcommand("export", "Export a trained run as TorchScript and ONNX, with its arch, costs and "
                                             "training summary");
    cmd->add_option("--run,-r", a->run, "Run directory of `hwnas train` (or a search run whose winner was trained "
                    "into RUN/train)")->required();
    cmd->add_option("--format,-f", a->formats, "Formats, comma-separated")->delimiter(',')
        ->check([](const std::string& name) -> std::string {
          if (exporting::exporter_registry().contains(name)) return "";
          return fmt::format("unknown format '{}'; registered exporters: {}", name,
                             fmt::join(exporting::exporter_registry().names(), ", "));
        })
        ->capture_default_str();
    cmd->add_option("--opset", a->opset, "ONNX opset")->capture_default_str()->check(CLI::Range(int64_t{13}, int64_t{17}));
    cmd->add_option("--table,-t", a->tables, "Latency tables whose predictions go into model.json (repeatable)");
    cmd->add_option("--out,-o", a->out, "Output folder (default: RUN/export); written whole or not at all");
    add_overwrite_flag(*cmd, a->overwrite);
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_export(ctx, *a); }; });
  }
}

}  // namespace hwnas::cli

// hwnas evaluate / proxies / predictor: accuracy estimation from the command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <fstream>
#include <memory>
#include <ostream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "cli/progress.h"
#include "hwnas/core/arch_table.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/core/run_directory.h"
#include "hwnas/core/stats.h"
#include "hwnas/cost/analytic.h"
#include "hwnas/estimate/evaluator.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/predictors/mlp/mlp.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::cli {
namespace {

namespace fs = std::filesystem;
using estimate::Metrics;

// --- data ----------------------------------------------------------------------------

struct DataArgs {
  DataSourceArgs source;
  int64_t train_size = estimate::kDefaultTrainSize;
  int64_t valid_size = estimate::kDefaultValidSize;
  int64_t split_seed = -1;
};

void add_data_args(CLI::App& cmd, DataArgs& a) {
  add_data_source_args(cmd, a.source);
  cmd.add_option("--train-size", a.train_size, "Training images (the first of the training part)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd.add_option("--valid-size", a.valid_size, "Validation images (held out: the next ones of the training part)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd.add_option("--split-seed", a.split_seed,
                 "Seed of the training/validation split (default: --seed); fixed, repeated seeds vary only the training")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
}

// --- archs ---------------------------------------------------------------------------

// Archs from a file (arch table, or one canonical string per line), else `n` distinct
// samples.
std::vector<Arch> archs_to_evaluate(const SearchSpace& space, const std::string& file, int64_t n, uint64_t seed) {
  std::vector<Arch> archs;
  if (!file.empty()) {
    const auto ext = fs::path(file).extension().string();
    if (ext == ".csv" || ext == ".json" || ext == ".jsonl") return read_arch_table(file, space).archs;
    std::istringstream in(read_file(file, "arch list"));
    std::string line;
    std::map<std::string, int64_t> first_row;
    for (int64_t row = 1; std::getline(in, line); ++row) {
      if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
      try {
        archs.push_back(space.parse(line));
      } catch (const Error& e) {
        throw DataError(fmt::format("{} line {}: {}", file, row, e.what()));
      }
      const auto [it, fresh] = first_row.emplace(archs.back().str(), row);
      HWNAS_CHECK_T(DataError, fresh, file, " line ", row, ": the arch repeats line ", it->second,
                    "; list each arch once");
    }
    HWNAS_CHECK_T(DataError, !archs.empty(), "The arch list '", file, "' has no archs");
    return archs;
  }
  Rng rng(seed);
  std::set<std::string> seen;
  const int64_t target = static_cast<int64_t>(std::min<double>(static_cast<double>(n), space.size()));
  for (int64_t tries = 0; static_cast<int64_t>(archs.size()) < target && tries < 100 * n + 1000; ++tries) {
    auto a = space.sample(rng);
    if (seen.insert(a.str()).second) archs.push_back(std::move(a));
  }
  return archs;
}

// --- evaluate / proxies --------------------------------------------------------------

struct EvaluateArgs {
  SpaceArgs space;
  DataArgs data;
  std::string evaluator = "short_training";
  std::string config;
  std::string archs_file;
  int64_t n = 10;
  uint64_t seed = 0;
  std::string out;
  bool resume = false, overwrite = false;
  std::string table, predictor, supernet;
};

// The evaluator and its space (fitted to the data) from the command line; `recipe`
// records what makes its numbers (compared on --resume).
std::shared_ptr<estimate::Evaluator> make_evaluator(const EvaluateArgs& a, std::shared_ptr<SearchSpace>& space,
                                                    nlohmann::json& recipe) {
  const auto config = a.config.empty() ? nlohmann::json::object() : parse_json_arg(a.config, "--config");
  recipe = {{"evaluator", a.evaluator}, {"config", config}, {"seed", a.seed}};
  nlohmann::json spec = {{"name", a.evaluator}, {"options", config}};
  const std::tuple<const char*, const std::string*, const char*> files[] = {
      {"table", &a.table, "tabular"}, {"predictor", &a.predictor, "predictor"}, {"supernet", &a.supernet, "inherited"}};
  for (const auto& [key, value, evaluator] : files) {
    HWNAS_CHECK_T(ConfigError, a.evaluator != evaluator || !value->empty(), "--evaluator ", evaluator, " needs --",
                  key, " FILE");
    if (!value->empty()) spec[key] = *value;
  }
  if (estimate::evaluator_registry().shared(a.evaluator)->needs_data) {
    spec["data"] = a.data.source.spec();
    spec["data"]["train_size"] = a.data.train_size;
    spec["data"]["valid_size"] = a.data.valid_size;
    recipe["data"] = {{"name", a.data.source.name}, {"train_size", a.data.train_size}, {"valid_size", a.data.valid_size}};
    if (a.data.split_seed >= 0) spec["data"]["split_seed"] = recipe["data"]["split_seed"] = a.data.split_seed;
    if (!spec["data"]["config"].empty()) recipe["data"]["config"] = spec["data"]["config"];
  }
  const auto space_config = a.space.config.empty() ? nlohmann::json::object()
                                                   : parse_json_arg(a.space.config, "--space-config");
  auto setup = estimate::make_evaluator(spec, a.space.name, space_config, a.seed);
  space = setup.space;
  return setup.evaluator;
}

void run_evaluate(Context& ctx, const EvaluateArgs& a) {
  const auto recipe_path = a.out + ".recipe.json";
  const RunFile out_file(a.out, output_mode(a.resume, a.overwrite), "evaluation CSV", {recipe_path});
  std::shared_ptr<SearchSpace> space;
  nlohmann::json recipe;
  auto evaluator = make_evaluator(a, space, recipe);
  const auto archs = archs_to_evaluate(*space, a.archs_file, a.n, a.seed);

  // The output CSV is rewritten atomically after every arch, so an interrupted run keeps
  // everything measured and --resume skips it. The recipe goes beside it.
  const auto columns = evaluator->metrics();
  std::vector<Arch> done_archs;
  std::vector<std::vector<double>> done_values;
  std::set<std::string> done;
  recipe["space"] = {{"name", space->name()}, {"config", space->config()}};
  if (out_file.resumed() && fs::exists(a.out)) {
    if (fs::exists(recipe_path)) {
      const auto old = read_json_file(recipe_path, "recipe");
      HWNAS_CHECK_T(ConfigError, old == recipe, "--resume: '", a.out, "' was made with a different recipe:",
                    json_differences(old, recipe), "; use another --out or the same options");
    }
    const auto t = read_arch_table(a.out, *space);
    HWNAS_CHECK_T(ConfigError, t.columns == columns, "--resume: '", a.out, "' has columns ",
                  fmt::format("{}", fmt::join(t.columns, ",")), " but this evaluator writes ",
                  fmt::format("{}", fmt::join(columns, ",")));
    done_archs = t.archs;
    done_values = t.values;
    for (const auto& x : t.archs) done.insert(x.str());
  }
  write_file_atomic(recipe_path, recipe.dump(2) + "\n");
  std::vector<Arch> todo;
  for (const auto& x : archs)
    if (!done.count(x.str())) todo.push_back(x);
  auto& o = *ctx.out;
  o << fmt::format("evaluate: {} archs of {} with '{}' ({} already in {})\n", archs.size(), space->name(),
                   evaluator->name(), archs.size() - todo.size(), a.out);
  Progress bar(*ctx.err, "evaluate");
  for (size_t i = 0; i < todo.size(); ++i) {
    const auto m = evaluator->evaluate({todo[i]}).front();
    std::vector<double> row;
    for (const auto& c : columns) row.push_back(m.at(c));
    done_archs.push_back(todo[i]);
    done_values.push_back(row);
    write_arch_table_csv(a.out, columns, done_archs, done_values);
    bar.update(static_cast<int64_t>(i + 1), static_cast<int64_t>(todo.size()));
  }
  o << fmt::format("wrote {} rows ({}) to {}\n", done_archs.size(), fmt::join(columns, ", "), a.out);
}

void add_evaluate_options(CLI::App* cmd, EvaluateArgs& a, bool choose_evaluator) {
  add_space_args(*cmd, a.space);
  add_data_args(*cmd, a.data);
  if (choose_evaluator) {
    cmd->add_option("--evaluator,-e", a.evaluator,
                    "A registered evaluator (hwnas evaluators): short_training, proxies, inherited, tabular, predictor, ...")
        ->check([](const std::string& name) -> std::string {
          if (name != "none" && estimate::evaluator_registry().contains(name)) return "";
          auto names = estimate::evaluator_names();
          names.erase(std::remove(names.begin(), names.end(), "none"), names.end());
          return fmt::format("unknown evaluator '{}'; registered: {}", name, fmt::join(names, ", "));
        })
        ->capture_default_str();
    cmd->add_option("--table", a.table, "--evaluator tabular: the table (CSV, JSONL or JSON)");
    cmd->add_option("--predictor", a.predictor, "--evaluator predictor: a saved predictor");
    cmd->add_option("--supernet", a.supernet, "--evaluator inherited: trained supernet weights");
  }
  cmd->add_option("--config,-c", a.config,
                  "Evaluator options as JSON or @file, e.g. short_training: '{\"steps\": 300, \"lr\": 0.05, \"cosine\": true}', "
                  "proxies: '{\"proxies\": [\"synflow\", \"jacob_cov\"], \"batch_size\": 64}'");
  cmd->add_option("--archs", a.archs_file, "Evaluate these archs (CSV/JSONL/JSON with an arch column, or one per line)");
  cmd->add_option("-n,--num", a.n, "Otherwise: this many distinct random archs")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  add_seed_option(*cmd, a.seed, "Seed: arch sampling, weights, batch order");
  cmd->add_option("--out,-o", a.out, "CSV to write (arch + one column per metric)")->required();
  cmd->add_flag("--resume", a.resume, "Continue an interrupted run: skip archs already in --out");
  cmd->add_flag("--overwrite", a.overwrite, "Replace --out if it exists");
}

// --- predictor -----------------------------------------------------------------------

struct PredictorArgs {
  SpaceArgs space;
  std::string data, target, predictor = "gp", config, model, out, arch, archs_file, encoding;
  double test_fraction = 0.2;
  std::vector<int64_t> train_sizes;
  uint64_t seed = 0;
  int64_t n = 0;
  bool overwrite = false;
};

struct Scores {
  double tau, spearman, mae, mape;
};

// MAPE is NaN (printed as "nan") when a true value is 0.
Scores score(const std::vector<double>& pred, const std::vector<double>& truth) {
  const bool mape_defined = std::none_of(truth.begin(), truth.end(), [](double v) { return v == 0; });
  return {stats::kendall_tau(pred, truth), stats::spearman(pred, truth), stats::mae(pred, truth),
          mape_defined ? stats::mape(pred, truth) : std::nan("")};
}

template <typename T>
std::vector<T> pick(const std::vector<T>& v, const std::vector<int64_t>& idx) {
  std::vector<T> out;
  for (auto i : idx) out.push_back(v[static_cast<size_t>(i)]);
  return out;
}

std::unique_ptr<predictors::Predictor> new_predictor(const PredictorArgs& a) {
  auto p = predictors::make_predictor(a.predictor, a.config.empty() ? nlohmann::json::object()
                                                                  : parse_json_arg(a.config, "--config"));
  if (!a.encoding.empty()) p->set_encoding_kind(a.encoding);
  return p;
}

void run_predictor_fit(Context& ctx, const PredictorArgs& a) {
  check_output_free(a.out, a.overwrite, "predictor file");
  auto space = a.space.make();
  const auto table = read_arch_table(a.data, *space);
  const auto y = table.column(a.target);
  auto p = new_predictor(a);
  p->set_target(a.target);
  p->fit(*space, table.archs, y);
  p->save(a.out);
  const auto fitted = p->predict(*space, table.archs).mean;
  const auto s = score(fitted, y);
  *ctx.out << fmt::format("fitted '{}' on {} rows of {} (target '{}'); on its own training rows: Kendall tau {:.3f}, "
                          "MAE {:.4g}\nsaved to {}\n", p->name(), y.size(), a.data, a.target, s.tau, s.mae, a.out);
}

void run_predictor_eval(Context& ctx, const PredictorArgs& a) {
  auto space = a.space.make();
  const auto table = read_arch_table(a.data, *space);
  const auto y = table.column(a.target);
  auto& o = *ctx.out;
  if (!a.model.empty()) {  // a saved predictor on all rows
    auto p = predictors::load_predictor(a.model);
    const auto s = score(p->predict(*space, table.archs).mean, y);
    o << fmt::format("{} ({}) on all {} rows of {}: Kendall tau {:.3f}  Spearman {:.3f}  MAE {:.4g}  MAPE {:.2f}%\n",
                     a.model, p->name(), y.size(), a.data, s.tau, s.spearman, s.mae, s.mape);
    return;
  }
  const int64_t n = static_cast<int64_t>(y.size());
  const int64_t n_test = std::max<int64_t>(2, static_cast<int64_t>(a.test_fraction * static_cast<double>(n)));
  HWNAS_CHECK_T(DataError, n - n_test >= 2, a.data, " has ", n, " rows: too few to hold out ", n_test, " and still fit");
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  Rng rng(a.seed);
  rng.shuffle(order);
  const std::vector<int64_t> test(order.begin(), order.begin() + n_test), pool(order.begin() + n_test, order.end());
  auto sizes = a.train_sizes;
  if (sizes.empty()) sizes.push_back(static_cast<int64_t>(pool.size()));
  const auto made = new_predictor(a);
  o << fmt::format("predictor '{}' {} (encoding {}) on {} (target '{}'): {} held-out rows, seed {}\n", a.predictor,
                   made->config().dump(), made->encoding_kind(), a.data, a.target, n_test, a.seed);
  o << fmt::format("{:>6} {:>9} {:>9} {:>10} {:>8} {:>8}\n", "train", "Kendall", "Spearman", "MAE", "MAPE%", "fit s");
  for (int64_t size : sizes) {
    HWNAS_CHECK_T(ConfigError, size >= 2 && size <= static_cast<int64_t>(pool.size()), "--train-sizes ", size,
                  ": between 2 and the ", pool.size(), " rows not held out");
    const std::vector<int64_t> tr(pool.begin(), pool.begin() + size);
    auto p = new_predictor(a);
    const auto t0 = std::chrono::steady_clock::now();
    p->fit(*space, pick(table.archs, tr), pick(y, tr));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto s = score(p->predict(*space, pick(table.archs, test)).mean, pick(y, test));
    o << fmt::format("{:>6} {:>9.3f} {:>9.3f} {:>10.4g} {:>8.2f} {:>8.2f}\n", size, s.tau, s.spearman, s.mae, s.mape, secs);
  }
  // The baseline a predictor has to beat: the parameter count itself, on the same rows.
  std::vector<double> params;
  for (auto i : test) params.push_back(static_cast<double>(cost::network_cost(space->layers(table.archs[static_cast<size_t>(i)])).params));
  const auto base = score(params, pick(y, test));
  o << fmt::format("#params alone (nothing fitted) on the same {} held-out rows: Kendall {:.3f}  Spearman {:.3f}\n",
                   n_test, base.tau, base.spearman);
}

void run_predictor_predict(Context& ctx, const PredictorArgs& a) {
  if (!a.out.empty()) check_output_free(a.out, a.overwrite, "predictions CSV");
  auto p = predictors::load_predictor(a.model);
  auto space = a.space.make();
  std::vector<Arch> archs;
  if (!a.arch.empty()) archs.push_back(space->parse(a.arch));
  else archs = archs_to_evaluate(*space, a.archs_file, a.n, a.seed);
  HWNAS_CHECK_T(ConfigError, !archs.empty(), "Give --arch, --archs FILE or -n N");
  const auto pred = p->predict(*space, archs);
  const auto metric = p->target().empty() ? std::string("predicted") : p->target();
  std::vector<std::string> cols{metric};
  if (pred.has_std()) cols.push_back(metric + "_std");
  std::vector<std::vector<double>> values;
  for (size_t i = 0; i < archs.size(); ++i) {
    values.push_back({pred.mean[i]});
    if (pred.has_std()) values.back().push_back(pred.std[i]);
  }
  if (!a.out.empty()) {
    write_arch_table_csv(a.out, cols, archs, values);
    *ctx.out << fmt::format("wrote {} predictions to {}\n", archs.size(), a.out);
    return;
  }
  for (size_t i = 0; i < archs.size(); ++i)
    *ctx.out << fmt::format("{:.6g}{}  {}\n", pred.mean[i], pred.has_std() ? fmt::format(" +- {:.3g}", pred.std[i]) : "",
                            archs[i].str());
}

void run_import_ofa(Context& ctx, const std::string& in, const std::string& out, bool overwrite) {
  check_output_free(out, overwrite, "predictor file");
  auto space = make_space("ofa");
  auto p = predictors::import_ofa_accuracy_predictor(in, *space);
  p->save(out);
  std::string hidden;
  for (const auto& width : p->config()["hidden"]) hidden += width.dump() + " -> ";
  *ctx.out << fmt::format("imported Once-for-All's accuracy predictor (MLP {} -> {}1) from {} to {}\n",
                          space->encoding_size(), hidden, in, out);
}

}  // namespace

void add_estimate_commands(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<EvaluateArgs>();
    auto* cmd = app.add_subcommand("evaluate", "Evaluate archs with an accuracy evaluator; write a CSV of metrics");
    add_evaluate_options(cmd, *a, true);
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_evaluate(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<EvaluateArgs>();
    a->evaluator = "proxies";
    a->data.train_size = 1000;
    a->data.valid_size = 1;
    auto* cmd = app.add_subcommand("proxies", "Zero-cost proxies of archs at initialisation on one minibatch; write a CSV");
    add_evaluate_options(cmd, *a, false);
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_evaluate(ctx, *a); }; });
  }
  auto* pred = app.add_subcommand("predictor", "Fit, evaluate, use and import accuracy (or any metric) predictors");
  pred->require_subcommand(1);
  const auto predictor_names = predictors::predictor_registry().names();
  auto common = [&](CLI::App* cmd, PredictorArgs& a, bool needs_data) {
    add_space_args(*cmd, a.space);
    if (needs_data) {
      cmd->add_option("--data,-d", a.data, "Rows of (arch, metrics): CSV, JSONL or JSON")->required();
      cmd->add_option("--target,-t", a.target, "The column to predict")->required();
    }
    add_seed_option(*cmd, a.seed, "Seed");
  };
  {
    auto a = std::make_shared<PredictorArgs>();
    auto* cmd = pred->add_subcommand("fit", "Fit a predictor on all rows and save it");
    common(cmd, *a, true);
    cmd->add_option("--predictor,-p", a->predictor, "Predictor type")->check(CLI::IsMember(predictor_names))->capture_default_str();
    cmd->add_option("--config,-c", a->config, "Predictor options as JSON or @file");
    cmd->add_option("--encoding,-e", a->encoding, "How archs are encoded: onehot (default), path, graph, stages, cost, or several joined by '+' (e.g. path+cost)");
    cmd->add_option("--out,-o", a->out, "Predictor file to write")->required();
    add_overwrite_flag(*cmd, a->overwrite);
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_predictor_fit(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<PredictorArgs>();
    auto* cmd = pred->add_subcommand("eval", "Held-out Kendall tau, Spearman, MAE and MAPE of a predictor type (or of a saved predictor on all rows)");
    common(cmd, *a, true);
    cmd->add_option("--predictor,-p", a->predictor, "Predictor type")->check(CLI::IsMember(predictor_names))->capture_default_str();
    cmd->add_option("--config,-c", a->config, "Predictor options as JSON or @file");
    cmd->add_option("--encoding,-e", a->encoding, "How archs are encoded: onehot (default), path, graph, stages, cost, or several joined by '+' (e.g. path+cost)");
    cmd->add_option("--model,-m", a->model, "Evaluate this saved predictor on all rows instead");
    cmd->add_option("--test-fraction", a->test_fraction, "Share of rows held out")->capture_default_str()->check(finite_range(0.01, 0.9));
    cmd->add_option("--train-sizes", a->train_sizes, "Fit on these many of the other rows, one report line each (default: all)")->delimiter(',');
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_predictor_eval(ctx, *a); }; });
  }
  {
    auto a = std::make_shared<PredictorArgs>();
    auto* cmd = pred->add_subcommand("predict", "Predict with a saved predictor");
    common(cmd, *a, false);
    cmd->add_option("--model,-m", a->model, "Saved predictor")->required();
    cmd->add_option("--arch,-a", a->arch, "One arch (canonical string)");
    cmd->add_option("--archs", a->archs_file, "Archs from a file (CSV/JSONL/JSON or one per line)");
    cmd->add_option("-n,--num", a->n, "Or this many random archs")->check(CLI::Range(int64_t{1}, int64_t{100000000}));
    cmd->add_option("--out,-o", a->out, "Write a CSV instead of printing");
    add_overwrite_flag(*cmd, a->overwrite);
    cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { run_predictor_predict(ctx, *a); }; });
  }
  {
    auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    auto overwrite = std::make_shared<bool>(false);
    auto* cmd = pred->add_subcommand("import-ofa", "Import Once-for-All's accuracy predictor (JSON state dict) for the ofa space");
    cmd->add_option("--in,-i", *in, "acc_predictor.json (see data/ofa/README.md)")->required();
    cmd->add_option("--out,-o", *out, "Predictor file to write")->required();
    add_overwrite_flag(*cmd, *overwrite);
    cmd->callback([&ctx, in, out, overwrite] {
      ctx.action = [&ctx, in, out, overwrite] { run_import_ofa(ctx, *in, *out, *overwrite); };
    });
  }
}

}  // namespace hwnas::cli

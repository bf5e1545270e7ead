#include "core/describe.h"
#include "experiment/record_json.h"
#include "hwnas/experiment/runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/core/run_directory.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/threads.h"
#include "hwnas/cost/cost_model.h"
#include "hwnas/cost/latency_table.h"
#include "hwnas/estimate/cost_models.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/oneshot/method.h"
#include "hwnas/strategy/strategy.h"

namespace hwnas::experiment {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using strategy::Direction;

constexpr const char* kCheckpointFormat = "hwnas-search-checkpoint";
constexpr int kCheckpointVersion = 1;
// The violation given to a candidate whose objectives are not numbers (NaN proxies, a
// diverged training): worse than any real constraint shortfall.
constexpr double kErrorViolation = 1e9;

// The parts of a config that decide the search's result: the budget, threads, checkpoint
// period and output may change between sessions of one run.
nlohmann::json decisive(const ExperimentConfig& c) {
  auto j = c.to_json();
  for (const char* key : {"budget", "threads", "checkpoint_every", "output"}) j.erase(key);
  return j;
}

double json_number(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }

Record record_from_json(const nlohmann::json& j, const SearchSpace& space) {
  Record r;
  r.index = json_integer<int64_t>(j.at("index"), "the record's \"index\"");
  r.batch = json_integer<int64_t>(j.at("batch"), "the record's \"batch\"");
  r.arch = space.parse(j.at("arch").get<std::string>());
  for (const auto& [k, v] : j.at("metrics").items()) r.metrics[k] = json_number(v);
  for (const auto& v : j.at("objectives")) r.objectives.push_back(json_number(v));
  r.violation = j.at("violation").get<double>();
  r.time_s = j.at("time_s").get<double>();
  if (j.contains("error")) r.error = j["error"].get<std::string>();
  return r;
}

strategy::Evaluation as_evaluation(const Record& r) {
  strategy::Evaluation e{r.arch, r.objectives, r.violation};
  if (!r.error.empty()) std::fill(e.objectives.begin(), e.objectives.end(), 0.0);
  return e;
}

// A shortfall of `x` in objective space (objectives turned into "smaller is better").
double oriented(double v, Direction d) { return d == Direction::kMaximize ? -v : v; }

// Hypervolume of points (all objectives minimised, each strictly below ref) by slicing
// along the first objective (HSO); exact, fine for the fronts of NAS runs.
double hv_minimise(std::vector<std::vector<double>> pts, const std::vector<double>& ref) {
  if (pts.empty()) return 0;
  const size_t d = ref.size();
  if (d == 1) {
    double best = ref[0];
    for (const auto& p : pts) best = std::min(best, p[0]);
    return ref[0] - best;
  }
  std::sort(pts.begin(), pts.end());
  double volume = 0;
  std::vector<std::vector<double>> slice;
  for (size_t i = 0; i < pts.size(); ++i) {
    slice.emplace_back(pts[i].begin() + 1, pts[i].end());
    const double next = i + 1 < pts.size() ? pts[i + 1][0] : ref[0];
    const double width = next - pts[i][0];
    if (width > 0) volume += width * hv_minimise(slice, std::vector<double>(ref.begin() + 1, ref.end()));
  }
  return volume;
}

}  // namespace

std::vector<double> nadir(const std::vector<Record>& records, const std::vector<strategy::Objective>& objectives) {
  std::vector<double> out;
  for (size_t k = 0; k < objectives.size(); ++k) {
    double worst = std::numeric_limits<double>::quiet_NaN();
    for (const auto& r : records)
      if (r.feasible() && (std::isnan(worst) || oriented(r.objectives[k], objectives[k].direction) >
                                                    oriented(worst, objectives[k].direction)))
        worst = r.objectives[k];
    out.push_back(worst);
  }
  return out;
}

double hypervolume(const std::vector<std::vector<double>>& points, const std::vector<double>& reference,
                   const std::vector<strategy::Objective>& objectives) {
  HWNAS_CHECK_T(ConfigError, reference.size() == objectives.size(), "hypervolume: the reference point has ",
                reference.size(), " values for ", objectives.size(), " objectives");
  std::vector<double> ref;
  for (size_t k = 0; k < objectives.size(); ++k) ref.push_back(oriented(reference[k], objectives[k].direction));
  std::vector<std::vector<double>> pts;
  for (const auto& p : points) {
    HWNAS_CHECK_T(ConfigError, p.size() == objectives.size(), "hypervolume: a point has ", p.size(), " values for ",
                  objectives.size(), " objectives");
    std::vector<double> q;
    bool inside = true;
    for (size_t k = 0; k < p.size(); ++k) {
      q.push_back(oriented(p[k], objectives[k].direction));
      inside = inside && q.back() < ref[k];
    }
    if (inside) pts.push_back(std::move(q));
  }
  return hv_minimise(std::move(pts), ref);
}

// --- Experiment ----------------------------------------------------------------------

struct Experiment::Impl {
  std::shared_ptr<SearchSpace> space;
  std::shared_ptr<estimate::Evaluator> evaluator;
  std::vector<std::shared_ptr<const cost::CostModel>> cost_models;
  std::vector<std::vector<std::string>> cost_metrics;  // per cost model: its metric names
  std::unique_ptr<strategy::Strategy> strategy;
  std::vector<Constraint> constraints;
  std::vector<std::string> metric_names;
  bool one_shot = false;       // a one-shot strategy (hwnas/oneshot/method.h)
  std::unique_ptr<oneshot::OneShotMethod> method;  // built (and checked) with the experiment
  data::Dataset train, valid;  // the evaluator's data, which one-shot methods train on

  // Run state.
  std::vector<Record> records, front;
  std::optional<Record> best;
  int64_t batches = 0;
  double elapsed_before = 0;  // seconds of earlier sessions

  bool better(const Record& a, const Record& b, const std::vector<strategy::Objective>& objs) const {
    return strategy::ranks_before(a.violation, a.objectives[0], b.violation, b.objectives[0], objs[0].direction);
  }

  // The latency model of `device` among the cost models ("": the only one), for one-shot
  // methods with a hardware loss.
  std::shared_ptr<const cost::LatencyModel> latency_model(const std::string& device, const std::string& strategy) const {
    std::vector<std::string> devices;
    std::vector<std::shared_ptr<const cost::LatencyModel>> models;
    for (size_t i = 0; i < cost_models.size(); ++i)
      if (auto model = cost_models[i]->latency_model()) {
        devices.push_back(cost_metrics[i][0].substr(std::string("latency@").size()));
        models.push_back(model);
      }
    for (size_t i = 0; i < models.size(); ++i)
      if (devices[i] == device || (device.empty() && models.size() == 1)) return models[i];
    throw ConfigError(fmt::format("The {} strategy asks for the latency of device '{}', but the experiment's "
                                  "\"latency_tables\" have: {}; name one of them in the strategy config (for the "
                                  "differentiable methods \"hardware\": {{\"device\": ...}})",
                                  strategy, device, devices.empty() ? std::string("none") : fmt::format("{}", fmt::join(devices, ", "))));
  }

  // The one-shot method of config `c`, checkpointing into its output directory.
  std::unique_ptr<oneshot::OneShotMethod> make_method(const ExperimentConfig& c) const {
    oneshot::MethodContext context;
    context.space = space;
    context.seed = c.seed();
    context.checkpoint = (fs::path(c.output()) / "search.pt").string();
    context.latency = [this, strategy = c.strategy()](const std::string& device) { return latency_model(device, strategy); };
    return oneshot::method_registry().create(c.strategy(), c.strategy_config(), context);
  }

  // Back to no records, for a run() that starts or resumes.
  void reset() {
    records.clear();
    front.clear();
    front_evals.clear();
    best.reset();
    batches = 0;
    elapsed_before = 0;
  }

  // Records the measured archs of one batch; returns their log lines (and, with `evals`,
  // their evaluations for the strategy).
  std::string record(const std::vector<Arch>& archs, const std::vector<estimate::Metrics>& metrics, int64_t batch,
                     double t, const std::vector<strategy::Objective>& objs,
                     std::vector<strategy::Evaluation>* evals = nullptr) {
    std::string lines;
    for (size_t i = 0; i < archs.size(); ++i) {
      auto r = make_record(archs[i], metrics[i], batch, t, objs);
      if (evals) evals->push_back(as_evaluation(r));
      append_record_line(lines, r);
      add(std::move(r), objs);
    }
    return lines;
  }

  // pareto.json and best.json of the records so far.
  void write_results(const fs::path& out) const {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : front) j.push_back(record_to_json(r));
    write_file_atomic((out / "pareto.json").string(), j.dump(2) + "\n");
    if (best) write_file_atomic((out / "best.json").string(), record_to_json(*best).dump(2) + "\n");
  }

  Record make_record(const Arch& arch, estimate::Metrics metrics, int64_t batch, double t,
                     const std::vector<strategy::Objective>& objs) const {
    Record r;
    r.index = static_cast<int64_t>(records.size());
    r.batch = batch;
    r.arch = arch;
    r.metrics = std::move(metrics);
    r.time_s = t;
    for (const auto& o : objs) {
      r.objectives.push_back(r.metrics.at(o.name));
      if (!std::isfinite(r.objectives.back()) && r.error.empty())
        r.error = fmt::format("objective '{}' is {}", o.name, r.objectives.back());
    }
    for (const auto& c : constraints) r.violation += c.violation(r.metrics.at(c.metric));
    if (!r.error.empty()) r.violation += kErrorViolation;
    return r;
  }

  // The front as the strategies see it, index by index with `front`.
  std::vector<strategy::Evaluation> front_evals;

  void add(Record r, const std::vector<strategy::Objective>& objs) {
    if (!best || better(r, *best, objs)) best = r;
    auto e = as_evaluation(r);
    for (size_t i = 0; i < front.size(); ++i)
      if (front[i].arch == r.arch || strategy::dominates(front_evals[i], e, objs)) {
        records.push_back(std::move(r));
        return;
      }
    size_t kept = 0;
    for (size_t i = 0; i < front.size(); ++i) {
      if (strategy::dominates(e, front_evals[i], objs)) continue;
      if (kept != i) {
        front[kept] = std::move(front[i]);
        front_evals[kept] = std::move(front_evals[i]);
      }
      ++kept;
    }
    front.resize(kept);
    front_evals.resize(kept);
    front.push_back(r);
    front_evals.push_back(std::move(e));
    records.push_back(std::move(r));
  }
};

Experiment::Experiment(ExperimentConfig config) : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  HWNAS_CHECK_T(ConfigError, !config_.objectives().empty(), "experiment config: give at least one objective");
  auto setup = estimate::make_evaluator(config_.evaluator(), config_.space(), config_.space_config(), config_.seed());
  m.space = setup.space;
  m.evaluator = setup.evaluator;
  m.metric_names = m.evaluator->metrics();
  const auto known = [&](const std::string& name) {
    return std::find(m.metric_names.begin(), m.metric_names.end(), name) != m.metric_names.end();
  };
  // The cost models: the config's (default: analytic), then one latency model per table.
  auto specs = config_.cost_models().empty() ? nlohmann::json::array({{{"name", "analytic"}}}) : config_.cost_models();
  for (const auto& [device, path] : config_.latency_tables())
    specs.push_back({{"name", "latency"}, {"table", path}, {"device", device}});
  std::vector<std::string> cost_names;
  for (const auto& spec : specs) {
    auto options = spec;
    options.erase("name");
    const std::string name = spec.at("name");
    m.cost_models.push_back(estimate::cost_model_registry().create(name, options, cost::CostModelContext{m.space}));
    m.cost_metrics.emplace_back();
    for (const auto& metric : m.cost_models.back()->metrics()) {
      HWNAS_CHECK_T(ConfigError, std::find(cost_names.begin(), cost_names.end(), metric.name) == cost_names.end(),
                    "Two cost models give the metric '", metric.name, "'; give each latency table or learned model "
                    "its own device name");
      cost_names.push_back(metric.name);
      m.cost_metrics.back().push_back(metric.name);
      if (!known(metric.name)) m.metric_names.push_back(metric.name);  // an evaluator's own value is kept
    }
  }
  const auto valid = fmt::format("{}", fmt::join(m.metric_names, ", "));
  for (const auto& o : config_.objectives())
    HWNAS_CHECK_T(ConfigError, known(o.name), "Unknown objective metric '", o.name, "'; this experiment's metrics are: ",
                  valid, " (latency@<device> needs \"latency_tables\": {\"<device>\": FILE})");
  m.constraints = config_.parsed_constraints();
  for (const auto& c : m.constraints)
    HWNAS_CHECK_T(ConfigError, known(c.metric), "Unknown metric '", c.metric, "' in constraint '", c.text,
                  "'; this experiment's metrics are: ", valid);
  m.train = setup.train;
  m.valid = setup.valid;
  m.one_shot = oneshot::method_registry().contains(config_.strategy());
  HWNAS_CHECK_T(ConfigError, !m.one_shot || !strategy::strategy_registry().contains(config_.strategy()), "The strategy '",
                config_.strategy(), "' is registered both as an ask/tell strategy and as a one-shot method; register "
                "one of them under another name");
  if (m.one_shot) {
    HWNAS_CHECK_T(ConfigError, m.train.size() > 0, "The ", config_.strategy(),
                  " strategy trains a supernet: give the evaluator \"data\", e.g. {\"name\": \"fashion-mnist\", "
                  "\"train_size\": 5000, \"valid_size\": 1000}");
    m.method = m.make_method(config_);  // refuses bad pairings now, before any output
    return;
  }
  HWNAS_CHECK_T(NotFoundError, strategy::strategy_registry().contains(config_.strategy()), "Unknown strategy '",
                config_.strategy(), "'; valid names: ", fmt::format("{}", fmt::join(strategy::strategy_registry().names(), ", ")),
                " (ask/tell), ", fmt::format("{}", fmt::join(oneshot::method_registry().names(), ", ")), " (one-shot)");
  m.strategy = strategy::make_strategy(config_.strategy(), config_.strategy_config());
  m.strategy->setup(m.space, config_.objectives(), config_.seed());
}

Experiment::~Experiment() = default;

std::shared_ptr<const SearchSpace> Experiment::space() const { return impl_->space; }
std::vector<std::string> Experiment::metric_names() const { return impl_->metric_names; }

std::vector<estimate::Metrics> Experiment::measure(const std::vector<Arch>& archs) {
  auto& m = *impl_;
  auto metrics = m.evaluator->evaluate(archs);
  HWNAS_INTERNAL_ASSERT(metrics.size() == archs.size(), "evaluator '", m.evaluator->name(), "' returned ",
                        metrics.size(), " results for ", archs.size(), " archs");
  auto costs = [&](size_t begin, size_t end) {
    const std::vector<Arch> chunk(archs.begin() + static_cast<std::ptrdiff_t>(begin),
                                  archs.begin() + static_cast<std::ptrdiff_t>(end));
    std::vector<std::vector<LayerSpec>> layers;  // built for the first model that needs them
    for (size_t k = 0; k < m.cost_models.size(); ++k) {
      std::vector<std::vector<double>> values;
      for (const auto& a : chunk) {
        auto v = m.cost_models[k]->evaluate_without_layers(a);
        if (!v) break;
        values.push_back(std::move(*v));
      }
      if (values.size() < chunk.size()) {
        if (layers.empty())
          for (const auto& a : chunk) layers.push_back(m.space->layers(a));
        values = m.cost_models[k]->evaluate_batch(chunk, layers);
      }
      const auto& names = m.cost_metrics[k];
      for (size_t i = 0; i < chunk.size(); ++i) {
        HWNAS_CHECK_T(Error, values[i].size() == names.size(), "cost model ", names[0], " gave ", values[i].size(),
                      " values for ", names.size(), " metrics");
        for (size_t j = 0; j < names.size(); ++j) metrics[begin + i].emplace(names[j], values[i][j]);
      }
    }
  };
  const size_t workers = std::min<size_t>(static_cast<size_t>(config_.threads()), archs.size());
  if (workers <= 1) {
    costs(0, archs.size());
    return metrics;
  }
  parallel_indexed(static_cast<int64_t>(workers), static_cast<int>(workers), [&](int64_t w) {
    const auto k = static_cast<size_t>(w);
    costs(archs.size() * k / workers, archs.size() * (k + 1) / workers);
  });
  return metrics;
}

RunResult Experiment::run(const RunOptions& options) {
  auto& m = *impl_;
  const auto dir = config_.output();
  HWNAS_CHECK_T(ConfigError, !dir.empty(), "The experiment has no output directory: set \"output\" in the config or "
                "pass --out DIR");
  const fs::path out(dir), checkpoint_path = out / "checkpoint.json", log_path = out / "log.jsonl";
  const RunDirectory run_dir(dir, output_mode(options.resume(), options.overwrite()),
                             {"search", RunDirectory::has_any({"config.json", "checkpoint.json"})});
  HWNAS_CHECK_T(DataError, !run_dir.resumed() || m.one_shot || fs::exists(checkpoint_path) || !fs::exists(log_path) ||
                               fs::file_size(log_path) == 0,
                "The run '", dir, "' has evaluations in log.jsonl but no checkpoint.json, so it cannot be resumed "
                "exactly; the log is kept as it is: restore checkpoint.json, or start again with overwrite (--overwrite)");
  set_threads(static_cast<int>(config_.threads()));
  m.reset();
  if (run_dir.resumed()) check_same_config(run_dir);
  return m.one_shot ? run_one_shot(run_dir, options) : run_ask_tell(run_dir, options);
}

// A resumed run must have been made with the same decisive config.
void Experiment::check_same_config(const RunDirectory& run_dir) const {
  const auto config_path = run_dir.file("config.json");
  if (!fs::exists(config_path)) return;
  nlohmann::json then;
  try {
    then = read_json_file(config_path, "run config");
  } catch (const ParseError& e) {
    throw DataError(fmt::format("The run's config '{}' is corrupt ({}); it is kept as it is. Start a new run "
                                "with another output or overwrite (--overwrite)", config_path, e.what()));
  }
  for (const char* key : {"budget", "threads", "checkpoint_every", "output"}) then.erase(key);
  const auto now = decisive(config_);
  HWNAS_CHECK_T(ConfigError, then == now, "resume (--resume): '", run_dir.path(), "' was made with a different config:",
                json_differences(then, now), ". Resume with the same config, or use another output directory");
}

// The strategy's state, the batches, the elapsed time and the log's records from the
// checkpoint (later log lines belong to batches that will be evaluated again).
void Experiment::restore(const RunDirectory& run_dir) {
  auto& m = *impl_;
  const auto& objs = config_.objectives();
  const auto checkpoint_path = run_dir.file("checkpoint.json"), log_path = run_dir.file("log.jsonl");
  const auto corrupt = [&](const std::string& why) {
    return DataError(fmt::format("The checkpoint '{}' is corrupt ({}); it is kept as it is. Restore it, or start "
                                 "again with overwrite (--overwrite)", checkpoint_path, why));
  };
  int64_t log_records = 0;
  try {
    const auto ck = read_json_file(checkpoint_path, "checkpoint");
    if (ck.value("format", "") != kCheckpointFormat) throw corrupt("not an hwnas search checkpoint");
    const auto version = json_integer<int>(ck.at("version"), "its \"version\"");
    if (version > kCheckpointVersion)
      throw DataError(fmt::format("The checkpoint '{}' has version {}, newer than this hwnas ({}); use a newer "
                                  "hwnas", checkpoint_path, version, kCheckpointVersion));
    m.strategy->load_state(ck.at("strategy"));
    m.batches = json_integer<int64_t>(ck.at("batches"), "its \"batches\"");
    m.elapsed_before = ck.at("elapsed_s").get<double>();
    log_records = json_integer<int64_t>(ck.at("log_records"), "its \"log_records\"");
    if (m.batches < 0 || log_records < 0 || !(m.elapsed_before >= 0))
      throw corrupt(fmt::format("negative counters (batches {}, log_records {}, elapsed_s {})", m.batches,
                                log_records, m.elapsed_before));
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(e.what());
  } catch (const ParseError& e) {
    throw corrupt(e.what());
  } catch (const ConfigError& e) {
    throw corrupt(e.what());
  }
  // The checkpoint counts records, not bytes: the bytes depend on the measured times
  // written in each record.
  std::ifstream in(log_path, std::ios::binary);
  std::string line;
  int64_t kept_bytes = 0, row = 0;
  for (; row < log_records && std::getline(in, line); ++row) kept_bytes += static_cast<int64_t>(line.size()) + 1;
  HWNAS_CHECK_T(DataError, row == log_records && (in.good() || in.eof()), "The log '", log_path, "' has ", row,
                " records, fewer than its checkpoint says (", log_records,
                "); it was truncated or replaced. Start again with overwrite (--overwrite)");
  in.close();
  fs::resize_file(log_path, static_cast<uintmax_t>(kept_bytes));
  in.open(log_path, std::ios::binary);
  for (row = 1; std::getline(in, line); ++row) {
    try {
      m.add(record_from_json(parse_json(line, "the record"), *m.space), objs);
    } catch (const std::exception& e) {
      throw DataError(fmt::format("{} line {}: {}; the file is kept as it is", log_path, row, detail::describe(e)));
    }
  }
  HWNAS_CHECK_T(DataError, static_cast<int64_t>(m.records.size()) == static_cast<int64_t>(m.strategy->history().size()),
                "The log '", log_path, "' has ", m.records.size(), " candidates but the checkpoint ",
                m.strategy->history().size(), "; start again with overwrite (--overwrite)");
}

RunResult Experiment::run_ask_tell(const RunDirectory& run_dir, const RunOptions& options) {
  auto& m = *impl_;
  const auto& objs = config_.objectives();
  const fs::path out(run_dir.path()), checkpoint_path = out / "checkpoint.json", log_path = out / "log.jsonl";
  // A fresh strategy: nothing of an earlier run() may carry over.
  m.strategy = strategy::make_strategy(config_.strategy(), config_.strategy_config());
  m.strategy->setup(m.space, objs, config_.seed());
  if (run_dir.resumed() && fs::exists(checkpoint_path))
    restore(run_dir);
  else
    std::ofstream(log_path, std::ios::trunc);
  write_file_atomic((out / "config.json").string(), config_.to_json().dump(2) + "\n");

  const auto session_start = Clock::now();
  const auto elapsed = [&] { return m.elapsed_before + std::chrono::duration<double>(Clock::now() - session_start).count(); };
  const auto& budget = config_.budget();
  auto checkpoint = [&] {
    std::FILE* f = std::fopen(log_path.c_str(), "ab");
    HWNAS_CHECK_T(DataError, f != nullptr && ::fsync(::fileno(f)) == 0, "Cannot sync the log '", log_path.string(), "'");
    std::fclose(f);
    const nlohmann::json ck = {{"format", kCheckpointFormat}, {"version", kCheckpointVersion},
                               {"strategy", m.strategy->state()}, {"batches", m.batches},
                               {"evaluations", m.records.size()}, {"elapsed_s", elapsed()},
                               {"log_records", static_cast<int64_t>(m.records.size())}};
    write_file_atomic(checkpoint_path.string(), ck.dump() + "\n");
    m.write_results(out);
  };
  auto progress = [&] {
    Progress p;
    p.evaluations = static_cast<int64_t>(m.records.size());
    p.budget_evaluations = budget.evaluations();
    p.elapsed_s = elapsed();
    p.budget_seconds = budget.seconds();
    p.best = m.best;
    p.front_size = m.front.size();
    return p;
  };

  RunResult result;
  std::ofstream log(log_path, std::ios::app | std::ios::binary);
  HWNAS_CHECK_T(DataError, log.good(), "Cannot append to the log '", log_path.string(), "'");
  // A checkpoint before the first record: a run stopped anywhere can be resumed exactly.
  if (!fs::exists(checkpoint_path)) checkpoint();
  while (true) {
    const auto done = static_cast<int64_t>(m.records.size());
    if (budget.evaluations() > 0 && done >= budget.evaluations()) break;
    if (budget.seconds() > 0 && elapsed() >= budget.seconds()) break;
    if (options.stop() && options.stop()->load()) {
      result.stopped = true;
      break;
    }
    const int64_t n = budget.evaluations() > 0 ? std::min(config_.batch_size(), budget.evaluations() - done)
                                               : config_.batch_size();
    const auto archs = m.strategy->ask(n);
    const auto metrics = measure(archs);
    std::vector<strategy::Evaluation> evals;
    const auto lines = m.record(archs, metrics, m.batches, elapsed(), objs, &evals);
    m.strategy->tell(evals);
    log << lines << std::flush;
    HWNAS_CHECK_T(DataError, log.good(), "Cannot append to the log '", log_path.string(), "' (disk full?)");
    ++m.batches;
    if (m.batches % config_.checkpoint_every() == 0) checkpoint();
    if (options.on_batch()) options.on_batch()(progress());
  }
  log.close();
  checkpoint();

  return finish(std::move(result), elapsed());
}

RunResult Experiment::finish(RunResult result, double seconds) {
  auto& m = *impl_;
  const auto& objs = config_.objectives();
  result.objectives = objs;
  result.constraints = config_.constraints();
  result.evaluations = static_cast<int64_t>(m.records.size());
  result.seconds = seconds;
  result.best = m.best;
  result.front = m.front;
  std::sort(result.front.begin(), result.front.end(), [&](const Record& a, const Record& b) {
    return m.better(a, b, objs) || (!m.better(b, a, objs) && a.index < b.index);
  });
  result.feasible_found = m.best && m.best->feasible();
  result.output = config_.output();
  if (objs.size() >= 2 && result.feasible_found) {
    result.reference_point = config_.reference_point();
    if (result.reference_point.empty()) result.reference_point = nadir(m.records, objs);
    std::vector<std::vector<double>> points;
    for (const auto& r : result.front) points.push_back(r.objectives);
    result.hypervolume = hypervolume(points, result.reference_point, objs);
  }
  write_file_atomic((fs::path(config_.output()) / "summary.txt").string(), summary_table(result));
  return result;
}

// A one-shot method: its epochs (resumed from search.pt), then its arch measured and
// recorded like an ask/tell candidate.
RunResult Experiment::run_one_shot(const RunDirectory& run_dir, const RunOptions& options) {
  auto& m = *impl_;
  const auto& objs = config_.objectives();
  const fs::path out(run_dir.path());
  const auto ckpt = run_dir.file("search.pt");
  auto owned = m.method ? std::move(m.method) : m.make_method(config_);  // a second run() starts afresh
  auto& method = *owned;
  if (run_dir.resumed() && fs::exists(ckpt)) method.load(ckpt);
  write_file_atomic((out / "config.json").string(), config_.to_json().dump(2) + "\n");
  const auto start = Clock::now();
  double before = 0;
  for (const auto& r : method.reports()) before += r.value("seconds", 0.0);
  const auto elapsed = [&] { return before + std::chrono::duration<double>(Clock::now() - start).count(); };
  auto write_epochs = [&] {
    std::string lines;
    for (const auto& r : method.reports()) lines += r.dump() + "\n";
    write_file_atomic((out / "epochs.jsonl").string(), lines);
  };
  write_epochs();
  method.run(
      m.train,
      [&] {
        write_epochs();
        if (options.on_batch()) {
          Progress p;
          p.evaluations = method.epoch();
          p.budget_evaluations = method.epochs();
          p.elapsed_s = elapsed();
          options.on_batch()(p);
        }
      },
      options.stop());
  RunResult result;
  if (method.epoch() < method.epochs()) {
    result.stopped = true;
    return finish(std::move(result), elapsed());
  }
  const std::vector<Arch> archs{method.select(m.valid)};
  const auto lines = m.record(archs, measure(archs), method.epoch(), elapsed(), objs);
  write_file_atomic((out / "log.jsonl").string(), lines);
  m.write_results(out);
  return finish(std::move(result), elapsed());
}

// --- summary -------------------------------------------------------------------------

std::string summary_table(const RunResult& r, size_t max_rows) {
  std::string s;
  std::vector<std::string> names;
  for (const auto& o : r.objectives)
    names.push_back(fmt::format("{} ({})", o.name, o.direction == Direction::kMaximize ? "max" : "min"));
  s += fmt::format("{} evaluations in {:.1f} s{}; objectives: {}", r.evaluations, r.seconds,
                   r.stopped ? " (stopped early: resume it (--resume))" : "", fmt::join(names, ", "));
  if (!r.constraints.empty()) s += fmt::format("; constraints: {}", fmt::join(r.constraints, ", "));
  s += "\n";
  if (!r.best) return s + "nothing evaluated\n";
  // Columns: the objectives, then the constrained metrics.
  std::vector<std::string> columns;
  for (const auto& o : r.objectives) columns.push_back(o.name);
  for (const auto& text : r.constraints) {
    const auto metric = Constraint::parse(text).metric;
    if (std::find(columns.begin(), columns.end(), metric) == columns.end()) columns.push_back(metric);
  }
  auto values = [&](const Record& x) {
    std::vector<std::string> v;
    for (const auto& c : columns) {
      const auto it = x.metrics.find(c);
      v.push_back(fmt::format("{:>14.6g}", it == x.metrics.end() ? std::nan("") : it->second));
    }
    return fmt::format("{}", fmt::join(v, " "));
  };
  std::vector<std::string> header;
  for (const auto& c : columns) header.push_back(fmt::format("{:>14}", c.substr(0, 14)));
  if (!r.feasible_found) {
    s += fmt::format("NO arch met the constraints. Closest (total relative shortfall {:.4g}):\n  {}\n  {}\n", r.best->violation,
                     r.best->arch.str(), values(*r.best));
    for (const auto& [k, v] : r.best->metrics) s += fmt::format("  {} = {:.6g}\n", k, v);
    return s + "Loosen the constraints or raise the budget.\n";
  }
  s += fmt::format("best: {}\n", r.best->arch.str());
  s += fmt::format("{:>5} {} {:>8}  arch\n", "#", fmt::join(header, " "), "index");
  s += fmt::format("{:>5} {} {:>8}  {}\n", "best", values(*r.best), r.best->index, r.best->arch.str());
  if (r.objectives.size() >= 2) {
    s += fmt::format("Pareto front: {} archs; hypervolume {:.6g} from reference point [{:.6g}]\n", r.front.size(),
                     r.hypervolume, fmt::join(r.reference_point, ", "));
    for (size_t i = 0; i < r.front.size() && i < max_rows; ++i)
      s += fmt::format("{:>5} {} {:>8}  {}\n", i + 1, values(r.front[i]), r.front[i].index, r.front[i].arch.str());
    if (r.front.size() > max_rows) s += fmt::format("  ... {} more in pareto.json\n", r.front.size() - max_rows);
  }
  return s;
}

}  // namespace hwnas::experiment

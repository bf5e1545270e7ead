#include "hwnas/estimate/factory.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <limits>
#include <map>
#include <mutex>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/archive.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/core/search_space.h"
#include "hwnas/data/registry.h"
#include "hwnas/estimate/inherited.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/estimate/proxies.h"
#include "hwnas/estimate/short_training.h"
#include "hwnas/nn/supernet.h"
#include "hwnas/search_spaces/registry.h"

namespace hwnas::estimate {
namespace {

// No accuracy metrics: objectives and constraints come from cost models only.
class NoEvaluator : public Evaluator {
 public:
  std::string name() const override { return "none"; }
  std::vector<std::string> metrics() const override { return {}; }

 protected:
  std::vector<Metrics> do_evaluate(const std::vector<Arch>& archs) override { return std::vector<Metrics>(archs.size()); }
};

// (train, validation): disjoint parts of the training file; the test file is kept for
// final evaluation.
std::pair<data::Dataset, data::Dataset> load_data(const nlohmann::json& spec, uint64_t seed) {
  ConfigReader r(spec, "evaluator \"data\"");
  const auto name = r.get_string("name", "fashion-mnist");
  HWNAS_CHECK_T(ConfigError, data::dataset_registry().contains(name), "evaluator \"data\": unknown dataset '", name,
                "'; registered: ", fmt::format("{}", fmt::join(data::dataset_registry().names(), ", ")),
                " (hwnas datasets lists them)");
  data::DataRequest request;
  request.dir(r.get_string("dir", ""));
  const auto train_size = r.get_int("train_size", kDefaultTrainSize, 1, 100000000);
  const auto valid_size = r.get_int("valid_size", kDefaultValidSize, 1, 100000000);
  // The split may be held fixed while the run's seed varies (the training's): repeated
  // runs then differ only in their training, not in which images they see.
  if (r.has("split_seed")) seed = static_cast<uint64_t>(r.get_int("split_seed", 0, 0, std::numeric_limits<int64_t>::max()));
  const auto config = r.get_json("config", nlohmann::json::object());
  r.finish();
  request.limit(train_size + valid_size);
  request.seed(seed);
  const auto all = data::load_dataset(name, config, request);
  HWNAS_CHECK_T(ConfigError, all.size() >= train_size + valid_size, "train_size + valid_size is ",
                train_size + valid_size, " but dataset '", name, "' has ", all.size(), " training samples");
  // A seeded class-stratified split (a folder of images comes sorted by class), held in
  // memory: the evaluators visit these samples many times (a streamed folder is decoded
  // once here).
  const auto [train, valid] = data::stratified_split(all, train_size, valid_size, seed);
  return {train.in_memory(), valid.in_memory()};
}

// The built-ins read their spec (without "name" and "data") under the context "evaluator",
// so messages name the fields as the user wrote them.
// Ends the reading of an evaluator that takes no "options" (unknown fields are refused first).
void finish_without_options(ConfigReader& r, const char* evaluator) {
  const auto options = r.get_json("options", nlohmann::json::object());
  r.finish();
  HWNAS_CHECK_T(ConfigError, options.empty(), "the ", evaluator, " evaluator takes no \"options\"");
}

std::shared_ptr<Evaluator> make_tabular(const nlohmann::json& spec, const EvaluatorContext& c) {
  ConfigReader r(spec, "evaluator");
  const auto table = r.get_string("table", "");
  finish_without_options(r, "tabular");
  HWNAS_CHECK_T(ConfigError, !table.empty(), "the tabular evaluator needs \"table\": a CSV, JSONL or JSON file");
  return std::make_shared<TabularEvaluator>(*c.space, table);
}

std::shared_ptr<Evaluator> make_predictor(const nlohmann::json& spec, const EvaluatorContext& c) {
  ConfigReader r(spec, "evaluator");
  const auto path = r.get_string("predictor", "");
  const auto metric = r.get_string("metric", "");
  finish_without_options(r, "predictor");
  HWNAS_CHECK_T(ConfigError, !path.empty(), "the predictor evaluator needs \"predictor\": a saved predictor file");
  return std::make_shared<PredictorEvaluator>(c.space, predictors::load_predictor(path), metric);
}

std::shared_ptr<Evaluator> make_none(const nlohmann::json& spec, const EvaluatorContext&) {
  ConfigReader r(spec, "evaluator");
  finish_without_options(r, "none");
  return std::make_shared<NoEvaluator>();
}

std::shared_ptr<Evaluator> make_short_training(const nlohmann::json& spec, const EvaluatorContext& c) {
  ConfigReader r(spec, "evaluator");
  auto st = options::read<ShortTrainingOptions>(r.get_json("options", nlohmann::json::object()),
                                               "short_training evaluator \"options\"");
  r.finish();
  st.train(train::TrainOptions(st.train()).seed(c.seed));
  st.seed(c.seed);
  return std::make_shared<ShortTrainingEvaluator>(c.space, c.train, c.valid, st);
}

std::shared_ptr<Evaluator> make_proxies(const nlohmann::json& spec, const EvaluatorContext& c) {
  ConfigReader r(spec, "evaluator");
  const std::string what = "proxies evaluator \"options\"";
  ConfigReader o(r.get_json("options", nlohmann::json::object()), what);
  r.finish();
  ProxyOptions p;
  const auto list = o.get_json("proxies", nlohmann::json());
  if (!list.is_null()) {
    HWNAS_CHECK_T(ConfigError, list.is_array(), what, ": \"proxies\" must be a list of names");
    for (size_t i = 0; i < list.size(); ++i)
      HWNAS_CHECK_T(ConfigError, list[i].is_string(), what, ": \"proxies\"[", i, "] is ", list[i].dump(),
                    ", not a proxy name; give names such as [\"synflow\", \"jacob_cov\"]");
    p.proxies(list.get<std::vector<std::string>>());
  }
  const int64_t batch = o.get_int("batch_size", 64, 2, 4096);
  o.finish();
  p.seed(c.seed);
  HWNAS_CHECK_T(ConfigError, c.train.size() >= batch, "the proxies' minibatch (", batch,
                ") is larger than the training data (", c.train.size(), ")");
  Rng rng(c.seed);
  auto batches = data::batches(c.train, batch, &rng);
  return std::make_shared<ProxyEvaluator>(c.space, batches.front(), p);
}

std::shared_ptr<Evaluator> make_inherited(const nlohmann::json& spec, const EvaluatorContext& c) {
  ConfigReader r(spec, "evaluator");
  const auto supernet = r.get_string("supernet", "");
  const auto in = options::read<InheritedOptions>(r.get_json("options", nlohmann::json::object()),
                                                 "inherited evaluator \"options\"");
  r.finish();
  HWNAS_CHECK_T(ConfigError, !supernet.empty(), "the inherited evaluator needs \"supernet\": trained supernet weights");
  return std::make_shared<InheritedWeightsEvaluator>(load_supernet(*c.space, supernet), c.train, c.valid, in);
}

void register_builtin_evaluators(EvaluatorRegistry& r) {
  const auto add = [&r](const char* name, const char* description, bool needs_data, auto make) {
    r.add_value(name, description, EvaluatorKind{needs_data, make});
  };
  add("short_training", "Validation accuracy after a short training run from scratch (\"options\": steps, lr, ...)", true,
      make_short_training);
  add("proxies", "Zero-cost proxies (synflow, jacob_cov, ...) at initialisation on one minibatch", true, make_proxies);
  add("inherited", "Accuracy with weights inherited from a trained supernet (\"supernet\": its weights)", true,
      make_inherited);
  add("tabular", "Metrics looked up in a table (\"table\": CSV, JSONL or JSON)", false, make_tabular);
  add("predictor", "Metrics from a saved predictor (\"predictor\": its file, \"metric\": the name)", false,
      make_predictor);
  add("none", "No accuracy metrics: a search on cost models alone", false, make_none);
}

}  // namespace

void save_supernet(nn::Supernet& net, const std::string& path) {
  hwnas::detail::TensorArchive archive;
  archive.put_module("", net);
  hwnas::detail::save_archive(archive, hwnas::detail::kSupernetWeightsKind, path);
}

std::shared_ptr<nn::Supernet> load_supernet(const SearchSpace& space, const std::string& path) {
  auto net = space.supernet();
  const auto archive = hwnas::detail::load_archive(
      hwnas::detail::kSupernetWeightsKind, path,
      fmt::format("give the weights file that hwnas train-supernet wrote for space {} {}", space.name(),
                  space.config().dump()));
  try {
    archive.load_module("", *net, path);
  } catch (const DataError& e) {
    throw DataError(fmt::format("Cannot load supernet weights for space {} {}: {}", space.name(),
                                space.config().dump(), e.what()));
  }
  return net;
}

std::shared_ptr<SearchSpace> fit_space_to_data(const std::string& name, nlohmann::json config, const data::Dataset& d) {
  const auto defaults = make_space(name, config)->config();
  const auto shape = d.sample_shape();
  const std::pair<const char*, int64_t> fits[] = {
      {"input_channels", shape[0]}, {"input_size", shape[1]}, {"num_classes", d.num_classes}};
  for (const auto& [key, value] : fits)
    if (defaults.contains(key) && !config.contains(key)) config[key] = value;
  return make_space(name, config);
}


EvaluatorRegistry& evaluator_registry() {
  static EvaluatorRegistry registry("evaluator");
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_evaluators(registry); });
  return registry;
}

void register_evaluator(const std::string& name, const std::string& description, EvaluatorKind kind) {
  HWNAS_CHECK_T(ConfigError, static_cast<bool>(kind.make), "Registering evaluator '", name, "' without a make function");
  evaluator_registry().add_value(name, description, std::move(kind));
}

std::vector<std::string> evaluator_names() { return evaluator_registry().names(); }

EvaluatorSetup make_evaluator(const nlohmann::json& spec, const std::string& space_name,
                              const nlohmann::json& space_config, uint64_t seed) {
  HWNAS_CHECK_T(ConfigError, spec.is_object(), "evaluator: expected an object such as {\"name\": \"short_training\"}, got ",
                spec.dump());
  ConfigReader r(spec, "evaluator");
  const auto name = r.get_string("name", "");
  HWNAS_CHECK_T(ConfigError, evaluator_registry().contains(name), "evaluator: ",
                name.empty() ? "give \"name\"" : "unknown \"name\" '" + name + "'", ", one of ",
                fmt::format("{}", fmt::join(evaluator_names(), ", ")), " (hwnas evaluators lists them)");
  const auto kind = evaluator_registry().shared(name);
  auto data_spec = r.get_json("data", nlohmann::json());
  EvaluatorSetup out;
  if (data_spec.is_null() && kind->needs_data) data_spec = nlohmann::json::object();
  if (data_spec.is_null()) {
    out.space = make_space(space_name, space_config);
  } else {
    std::tie(out.train, out.valid) = load_data(data_spec, seed);
    out.space = fit_space_to_data(space_name, space_config, out.train);
  }
  auto rest = spec;
  rest.erase("name");
  rest.erase("data");
  out.evaluator = kind->make(rest, EvaluatorContext{out.space, out.train, out.valid, seed});
  HWNAS_INTERNAL_ASSERT(out.evaluator != nullptr, "evaluator '", name, "' made nothing");
  return out;
}

}  // namespace hwnas::estimate

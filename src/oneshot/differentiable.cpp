#include "core/describe.h"
#include "train/optimizer_state.h"
#include "hwnas/oneshot/differentiable.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "hwnas/core/json_number.h"
#include "hwnas/core/config.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/latency_table.h"
#include "oneshot/detail.h"
#include "oneshot/differentiable_detail.h"

namespace hwnas::oneshot {
namespace {

using detail::Method;

const char* const kCheckpointFormat = "hwnas-differentiable-checkpoint";
constexpr int kCheckpointVersion = 1;

Method method_of(const std::string& name) {
  const auto& names = differentiable_methods();
  const auto it = std::find(names.begin(), names.end(), name);
  HWNAS_CHECK_T(ConfigError, it != names.end(), "Unknown differentiable method '", name, "'; valid: ",
                fmt::format("{}", fmt::join(names, ", ")));
  return static_cast<Method>(it - names.begin());
}

}  // namespace

namespace detail {

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(logits, labels);
}

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

std::vector<double> SearchState::edge_weights() const {
  torch::NoGradGuard no_grad;
  std::vector<double> out;
  for (size_t c = 0; c < alphas.size(); ++c) {
    auto w = edge_weight(c);
    out.push_back(w.defined() ? w.item<double>() : 1.0);
  }
  return out;
}

std::vector<std::vector<double>> SearchState::probabilities() const {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<double>> out;
  for (size_t c = 0; c < alphas.size(); ++c) out.push_back(to_vector(probs(c)));
  return out;
}

}  // namespace detail

const std::vector<std::string>& differentiable_methods() {
  static const std::vector<std::string> names = {"darts", "pcdarts", "gdas", "fbnet", "proxyless"};
  return names;
}

// --- options ---------------------------------------------------------------------------

DifferentiableOptions DifferentiableOptions::from_json(const nlohmann::json& j) {
  return options::read<DifferentiableOptions>(j, "differentiable strategy");
}

nlohmann::json DifferentiableOptions::to_json() const { return options::write(*this); }

void DifferentiableOptions::validate() const {
  options::check(*this, "differentiable strategy");
  const bool darts_like = method_ == "darts" || method_ == "pcdarts";
  HWNAS_CHECK_T(ConfigError, order_ == 1 || darts_like,
                "order 2 (unrolled architecture gradient) is for darts and pcdarts; ", method_, " takes order 1");
  HWNAS_CHECK_T(ConfigError, warmup_epochs_ < epochs_, "warmup_epochs (", warmup_epochs_, ") must be below epochs (",
                epochs_, ")");
  HWNAS_CHECK_T(ConfigError, tau_min_ <= tau_max_, "tau_min (", tau_min_, ") exceeds tau_max (", tau_max_, ")");
  HWNAS_CHECK_T(ConfigError, hardware_.form() == "none" || hardware_.target_ms() > 0, "The ", hardware_.form(),
                " hardware loss needs hardware.target_ms > 0");
  HWNAS_CHECK_T(ConfigError, partial_channels_ <= 1 || darts_like, "partial_channels is for darts and pcdarts, not ",
                method_);
}

nlohmann::json EpochReport::to_json() const {
  return {{"epoch", epoch}, {"train_loss", train_loss}, {"train_accuracy", train_accuracy}, {"arch_loss", arch_loss},
          {"arch_accuracy", arch_accuracy}, {"tau", tau}, {"expected_latency_ms", expected_latency_ms},
          {"derived_latency_ms", derived_latency_ms}, {"derived", derived.str()},
          {"probabilities", probabilities}, {"seconds", seconds}};
}

// --- search ----------------------------------------------------------------------------

DifferentiableSearch::DifferentiableSearch(std::shared_ptr<const SearchSpace> space, DifferentiableOptions options,
                                           std::shared_ptr<const cost::LatencyModel> latency)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  HWNAS_CHECK_T(ConfigError, space != nullptr, "DifferentiableSearch needs a space");
  m.space = std::move(space);
  m.o = std::move(options);
  m.o.validate();
  m.method = method_of(m.o.method());
  m.paths = detail::make_path_sampler(m.method);
  m.latency = std::move(latency);
  const auto& o = m.o;
  const auto& hw = o.hardware();
  HWNAS_CHECK_T(ConfigError, hw.form() == "none" || m.latency != nullptr, "The ", hw.form(),
                " hardware loss needs a latency table",
                hw.device().empty() ? std::string(": set hardware.device to a key of \"latency_tables\"")
                                    : " for device '" + hw.device() + "' in \"latency_tables\"");
  m.partial = o.partial_channels() > 0 ? o.partial_channels() : (m.method == Method::kPcDarts ? 4 : 1);

  torch::manual_seed(o.seed());
  m.net = std::dynamic_pointer_cast<nn::MixedSupernet>(
      m.space->supernet(SupernetOptions().build(BuildOptions().seed(o.seed()))));
  HWNAS_CHECK_T(ConfigError, m.net != nullptr, "The ", m.space->name(),
                " space has no mixed supernet, which differentiable search needs; built-in spaces with one: nb201, "
                "darts, mobilenet (a custom space gets one by returning an hwnas::nn::MixedSupernet from do_supernet)");
  HWNAS_CHECK_T(ConfigError, m.partial == 1 || m.net->supports_partial_channels(), o.method(),
                " with partial_channels ", m.partial, " needs a supernet with partial channel edges (nb201, darts); the ",
                m.space->name(), " supernet has none: use darts or partial_channels 1");
  HWNAS_CHECK_T(ConfigError, hw.form() == "none" || m.net->decisions_are_choices(), "The ", hw.form(),
                " hardware loss needs one mixed decision per arch choice; the ", m.space->name(),
                " supernet mixes edges that its archs choose among (e.g. DARTS' two inputs per node), so expected "
                "latency is not defined per option there. Use nb201 or mobilenet, or hardware form \"none\"");
  const auto groups = m.net->edge_groups();
  const auto& en = o.edge_normalization();
  HWNAS_CHECK_T(ConfigError, en != "on" || m.method == Method::kDarts || m.method == Method::kPcDarts,
                "edge_normalization is for darts and pcdarts, not ", o.method());
  HWNAS_CHECK_T(ConfigError, en != "on" || !groups.empty(), "edge_normalization: the ", m.space->name(),
                " supernet has no nodes with competing inputs (nb201 and mobilenet keep every edge)");
  const bool normalise = en == "on" || (en == "auto" && m.method == Method::kPcDarts && !groups.empty());
  m.weights = m.net->parameters();
  m.gen.set_current_seed(detail::mix_seed(o.seed(), 0));
  const auto allowed = m.net->allowed();
  for (size_t c = 0; c < allowed.size(); ++c) {
    std::vector<int> ok;
    std::vector<uint8_t> mask;
    for (size_t k = 0; k < allowed[c].size(); ++k) {
      if (allowed[c][k]) ok.push_back(static_cast<int>(k));
      mask.push_back(allowed[c][k] ? 1 : 0);
    }
    HWNAS_INTERNAL_ASSERT(!ok.empty(), "decision ", c, " allows no option");
    m.allowed.push_back(ok);
    m.masks.push_back(torch::tensor(mask, torch::kUInt8).to(torch::kBool));
    m.alphas.push_back((1e-3 * torch::randn({static_cast<int64_t>(mask.size())}, m.gen)).requires_grad_());
  }
  m.group_of.assign(m.alphas.size(), -1);
  m.position_of.assign(m.alphas.size(), -1);
  if (normalise) {
    for (size_t g = 0; g < groups.size(); ++g) {
      for (size_t i = 0; i < groups[g].size(); ++i) {
        m.group_of[static_cast<size_t>(groups[g][i])] = static_cast<int>(g);
        m.position_of[static_cast<size_t>(groups[g][i])] = static_cast<int>(i);
      }
      m.betas.push_back((1e-3 * torch::randn({static_cast<int64_t>(groups[g].size())}, m.gen)).requires_grad_());
    }
  }
  m.arch_params = m.alphas;
  m.arch_params.insert(m.arch_params.end(), m.betas.begin(), m.betas.end());
  m.make_optimizers();
  if (m.latency && m.net->decisions_are_choices()) m.setup_latency();
}

DifferentiableSearch::~DifferentiableSearch() = default;

int64_t DifferentiableSearch::epoch() const { return impl_->epoch; }
const DifferentiableOptions& DifferentiableSearch::options() const { return impl_->o; }
const std::vector<EpochReport>& DifferentiableSearch::reports() const { return impl_->reports; }
std::vector<std::vector<double>> DifferentiableSearch::probabilities() const { return impl_->probabilities(); }
Arch DifferentiableSearch::derive() const { return impl_->argmax(); }
double DifferentiableSearch::fastest_latency_ms() const { return impl_->fastest_ms; }

std::vector<std::vector<double>> DifferentiableSearch::alphas() const {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<double>> out;
  for (size_t c = 0; c < impl_->alphas.size(); ++c) out.push_back(detail::to_vector(impl_->masked(c)));
  return out;
}

double DifferentiableSearch::additive_latency_ms(const Arch& arch) const {
  const auto& m = *impl_;
  if (m.costs.empty()) return 0;
  m.space->validate(arch);
  double sum = m.base_ms;
  for (size_t c = 0; c < m.costs.size(); ++c) sum += m.costs[c][arch.genes()[c]].item<double>();
  return sum;
}

double DifferentiableSearch::expected_latency_ms() const {
  if (impl_->costs.empty()) return 0;
  torch::NoGradGuard no_grad;
  return impl_->expected_latency().item<double>();
}

std::vector<EpochReport> DifferentiableSearch::run(const data::Dataset& train,
                                                   const std::function<void(const EpochReport&)>& on_epoch,
                                                   const std::atomic<bool>* stop) {
  auto& m = *impl_;
  const auto& o = m.o;
  auto [wdata, adata] = data::split(train, 1.0 - o.train_portion(), o.seed());
  HWNAS_CHECK_T(ConfigError, wdata.size() >= o.batch_size() && adata.size() >= o.batch_size(), "The training data (",
                train.size(), " samples) split ", o.train_portion(), " : ", 1.0 - o.train_portion(),
                " gives ", wdata.size(), " and ", adata.size(), " samples, fewer than a batch (", o.batch_size(),
                "); use more data or a smaller batch_size");
  m.weight_data = wdata;
  std::vector<EpochReport> out;
  for (; m.epoch < o.epochs(); ) {
    const auto start = std::chrono::steady_clock::now();
    const int64_t e = m.epoch;
    const double progress = o.epochs() > 1 ? static_cast<double>(e) / static_cast<double>(o.epochs() - 1) : 1.0;
    m.lr = o.weight_lr_min() + 0.5 * (o.weight_lr() - o.weight_lr_min()) *
                                   (1 + std::cos(M_PI * static_cast<double>(e) / static_cast<double>(o.epochs())));
    for (auto& group : m.wopt->param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(m.lr);
    m.tau = o.tau_max() * std::pow(o.tau_min() / o.tau_max(), progress);
    m.gen.set_current_seed(detail::mix_seed(o.seed(), static_cast<uint64_t>(e) + 1));
    Rng rng(detail::mix_seed(o.seed(), 1000003ULL + static_cast<uint64_t>(e)));
    auto wb = data::batches(wdata, o.batch_size(), &rng);
    auto ab = data::batches(adata, o.batch_size(), &rng);
    const int64_t steps = o.steps_per_epoch() > 0 ? o.steps_per_epoch() : static_cast<int64_t>(wb.size());
    EpochReport r;
    r.epoch = e + 1;
    r.tau = m.tau;
    const bool search = e >= o.warmup_epochs();
    for (int64_t s = 0; s < steps; ++s) {
      const auto& w = wb[static_cast<size_t>(s) % wb.size()];
      if (search) {
        auto [l, a] = m.arch_step(w, ab[static_cast<size_t>(s) % ab.size()], s + 1);
        r.arch_loss += l / static_cast<double>(steps);
        r.arch_accuracy += a / static_cast<double>(steps);
      }
      auto [l, a] = m.weight_step(w, s + 1);
      r.train_loss += l / static_cast<double>(steps);
      r.train_accuracy += a / static_cast<double>(steps);
    }
    r.derived = m.argmax();
    r.probabilities = m.probabilities();
    r.expected_latency_ms = expected_latency_ms();
    r.derived_latency_ms = m.table_latency(r.derived);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++m.epoch;
    m.reports.push_back(r);
    out.push_back(r);
    if (!o.checkpoint().empty()) save(o.checkpoint());
    if (on_epoch) on_epoch(r);
    if (stop && stop->load()) break;
  }
  return out;
}

void DifferentiableSearch::save(const std::string& path) const {
  const auto& m = *impl_;
  hwnas::detail::TensorArchive archive;
  archive.put_module("supernet/", *m.net);
  train::detail::save_optimizer(*m.wopt, archive, "weight_optimizer/");
  train::detail::save_optimizer(*m.aopt, archive, "arch_optimizer/");
  for (size_t c = 0; c < m.arch_params.size(); ++c) archive.put("arch" + std::to_string(c), m.arch_params[c]);
  nlohmann::json reports = nlohmann::json::array();
  for (const auto& r : m.reports) reports.push_back(r.to_json());
  detail::save_checkpoint(path, archive, detail::run_meta(*m.space, m.o.to_json(), m.epoch, reports),
                          kCheckpointFormat, kCheckpointVersion);
}

void DifferentiableSearch::load(const std::string& path) {
  auto& m = *impl_;
  hwnas::detail::TensorArchive archive;
  const auto meta = detail::load_checkpoint(path, archive, kCheckpointFormat, kCheckpointVersion);
  detail::check_same_run(path, meta, m.space->name(), m.space->config(), m.o.to_json());
  try {
    // The metadata first (cheap to check), then the tensors.
    const auto epoch = json_integer<int64_t>(meta.at("epoch"), "\"epoch\"");
    std::vector<EpochReport> reports;
    for (const auto& j : meta.at("reports")) {
      EpochReport r;
      r.epoch = json_integer<int64_t>(j.at("epoch"), "a report's \"epoch\"");
      r.train_loss = j.at("train_loss").get<double>();
      r.train_accuracy = j.at("train_accuracy").get<double>();
      r.arch_loss = j.at("arch_loss").get<double>();
      r.arch_accuracy = j.at("arch_accuracy").get<double>();
      r.tau = j.at("tau").get<double>();
      r.expected_latency_ms = j.at("expected_latency_ms").get<double>();
      r.derived_latency_ms = j.at("derived_latency_ms").get<double>();
      r.derived = m.space->parse(j.at("derived").get<std::string>());
      r.probabilities = j.at("probabilities").get<std::vector<std::vector<double>>>();
      r.seconds = j.value("seconds", 0.0);  // kept beside the checkpoint (load_timings)
      reports.push_back(r);
    }
    if (epoch < 0 || static_cast<size_t>(epoch) != reports.size())
      throw detail::unusable_checkpoint(path, fmt::format("it says {} epochs were done but reports {}", epoch,
                                                          reports.size()));
    std::vector<torch::Tensor> loaded;
    for (size_t c = 0; c < m.arch_params.size(); ++c) {
      const auto* a = archive.tensor("arch" + std::to_string(c));
      if (!a || !a->sizes().equals(m.arch_params[c].sizes()) || a->scalar_type() != m.arch_params[c].scalar_type())
        throw detail::unusable_checkpoint(path, "architecture parameter " + std::to_string(c) +
                                                    " is missing or has another shape or type");
      loaded.push_back(*a);
    }
    archive.load_module("supernet/", *m.net, path);
    {
      torch::NoGradGuard no_grad;
      for (size_t c = 0; c < m.arch_params.size(); ++c) m.arch_params[c].copy_(loaded[c]);
    }
    train::detail::load_optimizer(*m.wopt, archive, "weight_optimizer/", path);
    train::detail::load_optimizer(*m.aopt, archive, "arch_optimizer/", path);
    m.epoch = epoch;
    m.reports = std::move(reports);
  } catch (const DataError&) {
    throw;
  } catch (const std::exception& e) {
    throw detail::unusable_checkpoint(path, hwnas::detail::describe(e));
  }
}

}  // namespace hwnas::oneshot

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
#include "hwnas/nn/mixed.h"
#include "oneshot/detail.h"

namespace hwnas::oneshot {
namespace {

enum class Method { kDarts, kPcDarts, kGdas, kFbnet, kProxyless };

const char* const kCheckpointFormat = "hwnas-differentiable-checkpoint";
constexpr int kCheckpointVersion = 1;

Method method_of(const std::string& name) {
  const auto& names = differentiable_methods();
  const auto it = std::find(names.begin(), names.end(), name);
  HWNAS_CHECK_T(ConfigError, it != names.end(), "Unknown differentiable method '", name, "'; valid: ",
                fmt::format("{}", fmt::join(names, ", ")));
  return static_cast<Method>(it - names.begin());
}

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

}  // namespace

const std::vector<std::string>& differentiable_methods() {
  static const std::vector<std::string> names = {"darts", "pcdarts", "gdas", "fbnet", "proxyless"};
  return names;
}

bool is_differentiable(const std::string& name) {
  const auto& names = differentiable_methods();
  return std::find(names.begin(), names.end(), name) != names.end();
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

struct DifferentiableSearch::Impl {
  std::shared_ptr<const SearchSpace> space;
  DifferentiableOptions o;
  Method method = Method::kDarts;
  int64_t partial = 1;
  std::shared_ptr<nn::MixedSupernet> net;
  std::vector<torch::Tensor> weights;                // the supernet's parameters
  std::vector<torch::Tensor> alphas;                 // per decision, [options]
  std::vector<torch::Tensor> betas;                  // edge normalisation: per node, [inputs]
  std::vector<torch::Tensor> arch_params;            // alphas, then betas
  std::vector<int> group_of, position_of;            // per decision: its beta group and index (-1: none)
  std::vector<torch::Tensor> masks;                  // allowed options (bool)
  std::vector<std::vector<int>> allowed;             // allowed option indices
  std::unique_ptr<torch::optim::SGD> wopt;
  std::unique_ptr<torch::optim::Adam> aopt;
  std::shared_ptr<const cost::LatencyModel> latency;
  std::vector<torch::Tensor> costs;                  // per decision, ms over the reference arch
  double base_ms = 0, fastest_ms = 0;
  int64_t epoch = 0;
  std::vector<EpochReport> reports;
  at::Generator gen = at::detail::createCPUGenerator(0);
  data::Dataset weight_data;  // the weights' half of the last run's data (DARTS-PT tuning)
  double lr = 0, tau = 1;

  torch::Tensor masked(size_t c) const {
    return alphas[c].masked_fill(masks[c].logical_not(), -std::numeric_limits<float>::infinity());
  }
  torch::Tensor probs(size_t c) const { return torch::softmax(masked(c), 0); }
  // PC-DARTS edge normalisation: the weight of decision c among its node's inputs.
  torch::Tensor edge_weight(size_t c) const {
    if (betas.empty() || group_of[c] < 0) return {};
    return torch::softmax(betas[static_cast<size_t>(group_of[c])], 0)[position_of[c]];
  }
  std::vector<double> edge_weights() const {
    torch::NoGradGuard no_grad;
    std::vector<double> out;
    for (size_t c = 0; c < alphas.size(); ++c) {
      auto w = edge_weight(c);
      out.push_back(w.defined() ? w.item<double>() : 1.0);
    }
    return out;
  }

  torch::Tensor expected_latency() const {
    auto e = torch::full({}, base_ms, torch::kFloat32);
    for (size_t c = 0; c < alphas.size(); ++c) e = e + (probs(c) * costs[c]).sum();
    return e;
  }

  // The architecture loss: CE with the hardware term.
  torch::Tensor arch_objective(const torch::Tensor& ce) const {
    const auto& hw = o.hardware();
    if (hw.form() == "none") return ce;
    const double target = hw.target_ms();
    auto e = expected_latency();
    if (hw.form() == "proxyless") return ce + hw.lambda() * (e - target) / target;
    if (hw.form() == "hinge") return ce + hw.lambda() * torch::relu(e - target) / target;
    // FBNet / ProxylessNAS "mul#log", in microseconds so that the logarithms are positive.
    return ce * hw.alpha() * torch::pow(torch::log(e * 1000.0) / std::log(target * 1000.0), hw.beta());
  }

  std::vector<nn::MixedChoice> mixture(bool detach) const {
    std::vector<nn::MixedChoice> path(alphas.size());
    for (size_t c = 0; c < alphas.size(); ++c) {
      path[c].active = allowed[c];
      auto w = probs(c);
      if (auto e = edge_weight(c); e.defined()) w = w * e;
      path[c].weights = detach ? w.detach() : w;
    }
    return path;
  }

  std::vector<nn::MixedChoice> gumbel(bool hard, bool detach) {
    std::vector<nn::MixedChoice> path(alphas.size());
    for (size_t c = 0; c < alphas.size(); ++c) {
      path[c].weights = nn::gumbel_softmax(masked(c), tau, hard, gen);
      if (hard)
        path[c].active = {static_cast<int>(path[c].weights.detach().argmax().item<int64_t>())};
      else
        path[c].active = allowed[c];
      if (detach) path[c].weights = path[c].weights.detach();
    }
    return path;
  }

  // ProxylessNAS: one option per decision drawn from softmax(alpha), weight 1.
  std::vector<nn::MixedChoice> binary_single() {
    std::vector<nn::MixedChoice> path(alphas.size());
    for (size_t c = 0; c < alphas.size(); ++c)
      path[c].active = {static_cast<int>(torch::multinomial(probs(c).detach(), 1, false, gen).item<int64_t>())};
    return path;
  }

  // ProxylessNAS arch step: two candidates drawn per decision, one of them active by
  // softmax over the pair; gradients reach both through the straight-through gates.
  std::vector<nn::MixedChoice> binary_pair(std::vector<torch::Tensor>& pairs) {
    std::vector<nn::MixedChoice> path(alphas.size());
    pairs.assign(alphas.size(), torch::Tensor());
    for (size_t c = 0; c < alphas.size(); ++c) {
      const int64_t n = std::min<int64_t>(2, static_cast<int64_t>(allowed[c].size()));
      auto pair = torch::multinomial(probs(c).detach(), n, false, gen);
      auto sub = torch::softmax(alphas[c].index_select(0, pair), 0);
      const auto j = torch::multinomial(sub.detach(), 1, false, gen).item<int64_t>();
      auto gate = torch::zeros_like(sub).index_fill(0, torch::tensor({j}), 1.0) - sub.detach() + sub;
      path[c].weights = torch::zeros_like(alphas[c]).index_add(0, pair, gate);
      for (int64_t i = 0; i < n; ++i) path[c].active.push_back(static_cast<int>(pair[i].item<int64_t>()));
      pairs[c] = pair;
    }
    return path;
  }

  std::vector<nn::MixedChoice> weight_path() {
    switch (method) {
      case Method::kDarts:
      case Method::kPcDarts: return mixture(true);
      case Method::kGdas: return gumbel(true, true);
      case Method::kFbnet: return gumbel(false, true);
      case Method::kProxyless: return binary_single();
    }
    return {};
  }

  void check_finite(double loss, const char* what, int64_t step) const {
    if (std::isfinite(loss)) return;
    throw Error(fmt::format(
        "The search diverged: the {} loss is {} at epoch {} step {}. {} Lower weight_lr (now {}) or arch_lr (now {}), "
        "or raise grad_clip",
        what, loss, epoch + 1, step, detail::last_checkpoint(o.checkpoint(), epoch),
        o.weight_lr(), o.arch_lr()));
  }

  // Gradients reset to undefined, not zero: weights of options a step did not run get no
  // update (no decay, no momentum), the same in a resumed run as in an uninterrupted one.
  void clear_grads() {
    for (auto& w : weights) w.mutable_grad().reset();
  }

  std::pair<double, double> weight_step(const data::Batch& b, int64_t step) {
    net->train();
    clear_grads();
    auto logits = net->forward_mixed(b.images, weight_path(), partial);
    auto loss = cross_entropy(logits, b.labels);
    const double l = loss.item<double>();
    check_finite(l, "weight", step);
    loss.backward();
    if (o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(weights, o.grad_clip());
    wopt->step();
    return {l, accuracy(logits, b.labels)};
  }

  // d(loss)/d(arch_params), zeros where a parameter is unused.
  std::vector<torch::Tensor> arch_grads(const torch::Tensor& loss) {
    auto g = torch::autograd::grad({loss}, arch_params, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                   /*allow_unused=*/true);
    for (size_t c = 0; c < g.size(); ++c)
      if (!g[c].defined()) g[c] = torch::zeros_like(arch_params[c]);
    return g;
  }

  // DARTS' second-order gradient: the alphas' gradient of the validation loss at the
  // weights after one virtual SGD step, minus xi times the finite-difference
  // Hessian-vector product of the training loss.
  std::vector<torch::Tensor> unrolled_grads(const data::Batch& train, const data::Batch& valid, int64_t step) {
    std::vector<torch::Tensor> backup;
    for (const auto& w : weights) backup.push_back(w.detach().clone());
    const double xi = lr;
    auto train_loss = [&] { return cross_entropy(net->forward_mixed(train.images, mixture(false), partial), train.labels); };
    {  // w' = w - xi * (dL_train/dw + wd * w)
      auto g = torch::autograd::grad({train_loss()}, weights, {}, false, false, true);
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < weights.size(); ++i)
        if (g[i].defined()) weights[i].sub_(xi * (g[i] + o.weight_decay() * weights[i]));
    }
    auto logits = net->forward_mixed(valid.images, mixture(false), partial);
    auto loss = arch_objective(cross_entropy(logits, valid.labels));
    check_finite(loss.item<double>(), "architecture", step);
    std::vector<torch::Tensor> inputs = arch_params;
    inputs.insert(inputs.end(), weights.begin(), weights.end());
    auto g = torch::autograd::grad({loss}, inputs, {}, false, false, true);
    const auto na = static_cast<std::ptrdiff_t>(arch_params.size());
    std::vector<torch::Tensor> da(g.begin(), g.begin() + na);
    std::vector<torch::Tensor> dw(g.begin() + na, g.end());
    double norm2 = 0;
    for (auto& v : dw)
      if (v.defined()) norm2 += v.pow(2).sum().item<double>();
    const double eps = 0.01 / std::max(std::sqrt(norm2), 1e-12);
    auto shifted = [&](double sign) {
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < weights.size(); ++i) {
          weights[i].copy_(backup[i]);
          if (dw[i].defined()) weights[i].add_(sign * eps * dw[i]);
        }
      }
      return arch_grads(train_loss());
    };
    auto plus = shifted(+1), minus = shifted(-1);
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < weights.size(); ++i) weights[i].copy_(backup[i]);
    }
    for (size_t c = 0; c < da.size(); ++c) {
      if (!da[c].defined()) da[c] = torch::zeros_like(arch_params[c]);
      da[c] = da[c] - xi * (plus[c] - minus[c]) / (2 * eps);
    }
    return da;
  }

  std::pair<double, double> arch_step(const data::Batch& train, const data::Batch& valid, int64_t step) {
    net->train();
    std::vector<torch::Tensor> grads, pairs;
    double l = 0, acc = 0;
    if ((method == Method::kDarts || method == Method::kPcDarts) && o.order() == 2) {
      grads = unrolled_grads(train, valid, step);
      torch::NoGradGuard no_grad;
      auto logits = net->forward_mixed(valid.images, mixture(true), partial);
      l = cross_entropy(logits, valid.labels).item<double>();
      acc = accuracy(logits, valid.labels);
    } else {
      std::vector<nn::MixedChoice> path;
      switch (method) {
        case Method::kDarts:
        case Method::kPcDarts: path = mixture(false); break;
        case Method::kGdas: path = gumbel(true, false); break;
        case Method::kFbnet: path = gumbel(false, false); break;
        case Method::kProxyless: path = binary_pair(pairs); break;
      }
      auto logits = net->forward_mixed(valid.images, path, partial);
      auto ce = cross_entropy(logits, valid.labels);
      l = ce.item<double>();
      acc = accuracy(logits, valid.labels);
      auto loss = arch_objective(ce);
      check_finite(loss.item<double>(), "architecture", step);
      grads = arch_grads(loss);
    }
    std::vector<torch::Tensor> before;
    if (method == Method::kProxyless)
      for (size_t c = 0; c < alphas.size(); ++c) before.push_back(alphas[c].detach().index_select(0, pairs[c]));
    for (size_t c = 0; c < arch_params.size(); ++c) arch_params[c].mutable_grad() = grads[c];
    aopt->step();
    if (method == Method::kProxyless) {
      // Keep the unsampled options' probabilities: shift the pair so that its total
      // exp(alpha) is what it was before the update.
      torch::NoGradGuard no_grad;
      for (size_t c = 0; c < alphas.size(); ++c) {
        auto after = alphas[c].index_select(0, pairs[c]);
        auto offset = torch::logsumexp(after, 0) - torch::logsumexp(before[c], 0);
        alphas[c].index_copy_(0, pairs[c], after - offset);
      }
    }
    for (auto& a : arch_params) a.mutable_grad().reset();
    return {l, acc};
  }

  std::vector<std::vector<double>> probabilities() const {
    torch::NoGradGuard no_grad;
    std::vector<std::vector<double>> out;
    for (size_t c = 0; c < alphas.size(); ++c) out.push_back(to_vector(probs(c)));
    return out;
  }

  Arch argmax() const { return within_target(net->derive(probabilities(), edge_weights())); }

  // With a hardware loss, the derived arch must meet the target, which the loss asks of
  // E[lat] only: while the arch is slower than the target, switch the decision whose move
  // to a faster option gives up the least log-probability per ms saved, skipping moves that
  // leave a network whose output ignores its input (e.g. an nb201 cell whose output node
  // gets "none" from every edge) unless no other is left. The fastest arch meets the target
  // (checked at the start), so this ends within it.
  Arch within_target(Arch arch) const {
    const auto& hw = o.hardware();
    if (hw.form() == "none" || !hw.within_target() || !net->decisions_are_choices()) return arch;
    const auto p = probabilities();
    const auto logp = [&](size_t c, int k) { return std::log(std::max(p[c][static_cast<size_t>(k)], 1e-30)); };
    auto genes = arch.genes();
    double ms = latency->predict(arch);
    while (ms > hw.target_ms()) {
      struct Move {
        double rate, ms;
        size_t c;
        int k;
      };
      std::vector<Move> moves;
      for (size_t c = 0; c < allowed.size(); ++c)
        for (int k : allowed[c]) {
          if (k == genes[c]) continue;
          auto g = genes;
          g[c] = k;
          const double t = latency->predict(space->make(g));
          if (t < ms) moves.push_back({(logp(c, genes[c]) - logp(c, k)) / (ms - t), t, c, k});
        }
      if (moves.empty()) break;  // no single switch is faster (a table that does not add up per layer)
      std::stable_sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) { return a.rate < b.rate; });
      const auto next = std::find_if(moves.begin(), moves.end(), [&](const Move& m) {
        auto g = genes;
        g[m.c] = m.k;
        return carries_signal(space->make(g));
      });
      // The target comes first: if every faster switch loses the signal, take the best one.
      const auto& move = next != moves.end() ? *next : moves.front();
      genes[move.c] = move.k;
      ms = move.ms;
    }
    return space->make(genes);
  }

  // Whether the network of `arch` (fresh weights, eval mode) gives different logits for two
  // random inputs. The global random state is left as it was.
  bool carries_signal(const Arch& arch) const {
    at::Generator global = at::detail::getDefaultCPUGenerator();
    const auto state = global.get_state();
    auto local = at::detail::createCPUGenerator(17);
    torch::NoGradGuard no_grad;
    auto network = space->build(arch);
    network->eval();
    const auto s = space->input_shape_of(arch);
    const auto y = network->forward(torch::randn({2, s.c, s.h, s.w}, local));
    global.set_state(state);
    return (y[0] - y[1]).abs().max().item<double>() > 1e-6;
  }

  double table_latency(const Arch& arch) const { return latency ? latency->predict(arch) : 0.0; }

  void make_optimizers() {
    wopt = std::make_unique<torch::optim::SGD>(
        weights, torch::optim::SGDOptions(o.weight_lr()).momentum(o.momentum()).weight_decay(o.weight_decay()));
    aopt = std::make_unique<torch::optim::Adam>(
        arch_params, torch::optim::AdamOptions(o.arch_lr()).betas({0.5, 0.999}).weight_decay(o.arch_weight_decay()));
  }

  // Per decision and option, the table latency it adds over the reference arch (each
  // decision's first allowed option): exact when the table sums per-layer entries and each
  // decision's layers depend on it alone, as in the built-in spaces.
  void setup_latency() {
    std::vector<int> ref;
    for (const auto& a : allowed) ref.push_back(a.front());
    base_ms = latency->predict(space->make(ref));
    std::vector<int> fastest = ref;
    for (size_t c = 0; c < allowed.size(); ++c) {
      auto t = torch::zeros({alphas[c].numel()}, torch::kFloat32);
      double best = 0;
      for (int k : allowed[c]) {
        auto genes = ref;
        genes[c] = k;
        const double d = latency->predict(space->make(genes)) - base_ms;
        t[k] = d;
        if (d < best) {
          best = d;
          fastest[c] = k;
        }
      }
      costs.push_back(t);
    }
    const auto arch = space->make(fastest);
    fastest_ms = latency->predict(arch);
    const auto& hw = o.hardware();
    if (hw.form() != "none")
      HWNAS_CHECK_T(ConfigError, fastest_ms <= hw.target_ms(), "The latency target ", hw.target_ms(), " ms on '",
                    hw.device(), "' cannot be met: the fastest arch of the space, ", arch.str(), ", takes ",
                    fmt::format("{:.4f}", fastest_ms), " ms by the table. Raise target_ms or choose a smaller space");
  }
};

DifferentiableSearch::DifferentiableSearch(std::shared_ptr<const SearchSpace> space, DifferentiableOptions options,
                                           std::shared_ptr<const cost::LatencyModel> latency)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  HWNAS_CHECK_T(ConfigError, space != nullptr, "DifferentiableSearch needs a space");
  m.space = std::move(space);
  m.o = std::move(options);
  m.o.validate();
  m.method = method_of(m.o.method());
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
  for (size_t c = 0; c < impl_->alphas.size(); ++c) out.push_back(to_vector(impl_->masked(c)));
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

Arch DifferentiableSearch::select(const data::Dataset& valid) {
  auto& m = *impl_;
  if (m.o.selection() == "argmax") return m.argmax();
  // DARTS-PT: decisions in a seeded random order; each takes the option whose removal
  // from the mixture lowers validation accuracy the most, then stays fixed.
  HWNAS_CHECK_T(ConfigError, valid.size() > 0, "DARTS-PT selection needs validation data");
  const auto vb = data::batches(valid, m.o.batch_size());
  const size_t nb = std::min<size_t>(vb.size(), static_cast<size_t>(m.o.pt_batches()));
  std::vector<int> fixed(m.alphas.size(), -1);
  auto path_with = [&](size_t skip_c, int skip_k) {
    auto path = m.mixture(true);
    for (size_t c = 0; c < path.size(); ++c) {
      if (fixed[c] >= 0) {
        path[c].active = {fixed[c]};
        path[c].weights = torch::Tensor();
      } else if (c == skip_c) {
        auto& act = path[c].active;
        act.erase(std::find(act.begin(), act.end(), skip_k));
        auto w = path[c].weights.clone();
        w[skip_k] = 0;
        path[c].weights = w * (path[c].weights.sum() / w.sum());  // keeps an edge weight
      }
    }
    return path;
  };
  auto val_accuracy = [&](const std::vector<nn::MixedChoice>& path) {
    torch::NoGradGuard no_grad;
    m.net->train();  // batch statistics: the running ones belong to the unperturbed mixture
    double correct = 0, n = 0;
    for (size_t i = 0; i < nb; ++i) {
      auto logits = m.net->forward_mixed(vb[i].images, path, m.partial);
      correct += logits.argmax(1).eq(vb[i].labels).sum().item<double>();
      n += static_cast<double>(vb[i].labels.size(0));
    }
    return correct / n;
  };
  std::vector<size_t> order(m.alphas.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(detail::mix_seed(m.o.seed(), 77));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng.uniform_int(static_cast<int64_t>(i)))]);
  Rng tune_rng(detail::mix_seed(m.o.seed(), 78));
  for (size_t c : order) {
    if (m.allowed[c].size() == 1) {
      fixed[c] = m.allowed[c].front();
      continue;
    }
    double worst = std::numeric_limits<double>::infinity();
    for (int k : m.allowed[c]) {
      const double acc = val_accuracy(path_with(c, k));
      if (acc < worst) {
        worst = acc;
        fixed[c] = k;
      }
    }
    if (m.o.pt_tune_steps() > 0 && m.weight_data.size() > 0) {
      auto tb = data::batches(m.weight_data, m.o.batch_size(), &tune_rng);
      for (int64_t s = 0; s < m.o.pt_tune_steps(); ++s) {
        const auto& b = tb[static_cast<size_t>(s) % tb.size()];
        m.net->train();
        m.clear_grads();
        auto loss = cross_entropy(m.net->forward_mixed(b.images, path_with(m.alphas.size(), -1), m.partial), b.labels);
        m.check_finite(loss.item<double>(), "DARTS-PT tuning", s + 1);
        loss.backward();
        if (m.o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(m.weights, m.o.grad_clip());
        m.wopt->step();
      }
    }
  }
  // The arch from the fixed options, each with its original probability as its strength
  // (which ranks a node's inputs in the darts space).
  auto probs = m.probabilities();
  for (size_t c = 0; c < probs.size(); ++c)
    for (size_t k = 0; k < probs[c].size(); ++k)
      if (static_cast<int>(k) != fixed[c]) probs[c][k] = 0;
  return m.within_target(m.net->derive(probs, m.edge_weights()));
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

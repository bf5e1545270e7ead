#include "hwnas/strategy/rl.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/json_number.h"
#include "hwnas/core/config.h"
#include "hwnas/core/option_fields.h"
#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"

namespace hwnas::strategy {

void RlOptions::validate() const {
  options::check(*this, "rl options");
  HWNAS_CHECK_T(ConfigError, reward() != "mnasnet" || target() > 0, "rl options: the \"mnasnet\" reward needs target "
                "(\"target\"): the latency target (> 0) in the second objective's unit");
}

RlOptions RlOptions::from_json(const nlohmann::json& config) {
  auto o = options::read<RlOptions>(config, "rl strategy config");
  o.validate();
  return o;
}

nlohmann::json RlOptions::to_json() const { return options::write(*this); }

// The policy: an LSTM cell over the sequence of choices; the input at each step is the
// embedding of the previous decision (a start token first); one linear head per choice.
// The parameters and Adam's moments are plain tensors, so the state saves exactly.
struct RlController::Policy {
  std::vector<int64_t> sizes, offsets;  // options per choice; embedding row of option 0
  int64_t hidden = 0;
  torch::Tensor embedding, w_ih, w_hh, bias;
  std::vector<torch::Tensor> head_w, head_b;
  std::vector<torch::Tensor> m, v;  // Adam moments
  int64_t step = 0;
  double baseline = 0;
  bool has_baseline = false;
  std::map<std::string, std::vector<std::vector<int64_t>>> pending;  // asked arch -> its actions

  std::vector<torch::Tensor*> parameters() {
    std::vector<torch::Tensor*> p = {&embedding, &w_ih, &w_hh, &bias};
    for (auto& t : head_w) p.push_back(&t);
    for (auto& t : head_b) p.push_back(&t);
    return p;
  }

  struct Pass {
    torch::Tensor log_prob, entropy;  // per row
    std::vector<std::vector<int64_t>> actions;
    std::vector<std::vector<double>> probs;  // row 0's distribution per step
  };

  // Runs the policy on `rows` sequences. With `given` actions it scores them; otherwise
  // it draws them from `rng` (no gradient).
  Pass run(int64_t rows, const std::vector<std::vector<int64_t>>* given, Rng* rng, const RlOptions& o) {
    Pass pass;
    pass.actions.assign(static_cast<size_t>(rows), {});
    auto h = torch::zeros({rows, hidden}), c = torch::zeros({rows, hidden});
    auto x = embedding.index({torch::zeros({rows}, torch::kLong)});
    pass.log_prob = torch::zeros({rows});
    pass.entropy = torch::zeros({rows});
    for (size_t i = 0; i < sizes.size(); ++i) {
      auto gates = torch::addmm(bias, x, w_ih.t()) + torch::mm(h, w_hh.t());
      auto g = gates.chunk(4, 1);
      c = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
      h = torch::sigmoid(g[3]) * torch::tanh(c);
      auto logits = torch::addmm(head_b[i], h, head_w[i].t()) / o.temperature();
      if (o.tanh_constant() > 0) logits = o.tanh_constant() * torch::tanh(logits);
      auto logp = torch::log_softmax(logits, 1);
      std::vector<int64_t> chosen(static_cast<size_t>(rows));
      const auto probs = logp.detach().exp().contiguous();
      const float* p = probs.data_ptr<float>();
      {
        std::vector<double> row0(p, p + sizes[i]);
        pass.probs.push_back(row0);
      }
      for (int64_t r = 0; r < rows; ++r) {
        if (given) {
          chosen[static_cast<size_t>(r)] = (*given)[static_cast<size_t>(r)][i];
          continue;
        }
        // Inverse CDF with our generator: the same draws on every platform.
        const double u = rng->uniform();
        double acc = 0;
        int64_t k = 0;
        for (; k < sizes[i] - 1; ++k) {
          acc += p[r * sizes[i] + k];
          if (u < acc) break;
        }
        chosen[static_cast<size_t>(r)] = k;
      }
      const auto idx = torch::tensor(chosen, torch::kLong);
      pass.log_prob = pass.log_prob + logp.gather(1, idx.unsqueeze(1)).squeeze(1);
      pass.entropy = pass.entropy - (logp.exp() * logp).sum(1);
      for (int64_t r = 0; r < rows; ++r) pass.actions[static_cast<size_t>(r)].push_back(chosen[static_cast<size_t>(r)]);
      x = embedding.index({idx + offsets[i]});
    }
    return pass;
  }
};

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.detach().contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<float> floats(const nlohmann::json& j, const char* what) {
  HWNAS_CHECK_T(DataError, j.is_array(), "rl strategy state: '", what, "' holds ", j.type_name(), ", not a list");
  std::vector<float> out;
  for (const auto& v : j) out.push_back(json_float(v, std::string("rl strategy state: a value of '") + what + "'"));
  return out;
}

void from_vector(torch::Tensor& t, const std::vector<float>& values, const char* what) {
  HWNAS_CHECK_T(DataError, static_cast<int64_t>(values.size()) == t.numel(), "rl strategy state: '", what, "' has ",
                values.size(), " values, expected ", t.numel());
  torch::NoGradGuard no_grad;
  t.copy_(torch::tensor(values).view(t.sizes()));
}

}  // namespace

RlController::RlController(RlOptions options) : options_(std::move(options)) { options_.validate(); }
RlController::~RlController() = default;

void RlController::ensure_policy() {
  if (policy_) return;
  auto p = std::make_unique<Policy>();
  p->hidden = options_.hidden();
  int64_t rows = 1;  // the start token
  for (const auto& c : space().choices()) {
    p->sizes.push_back(static_cast<int64_t>(c.options.size()));
    p->offsets.push_back(rows);
    rows += static_cast<int64_t>(c.options.size());
  }
  const int64_t h = p->hidden;
  p->embedding = torch::zeros({rows, h});
  p->w_ih = torch::zeros({4 * h, h});
  p->w_hh = torch::zeros({4 * h, h});
  p->bias = torch::zeros({4 * h});
  for (int64_t k : p->sizes) {
    p->head_w.push_back(torch::zeros({k, h}));
    p->head_b.push_back(torch::zeros({k}));
  }
  // Uniform(-0.1, 0.1) as in ENAS, from the strategy's generator (reproducible anywhere).
  for (auto* t : p->parameters()) {
    std::vector<float> values(static_cast<size_t>(t->numel()));
    for (auto& v : values) v = static_cast<float>(0.2 * rng().uniform() - 0.1);
    *t = torch::tensor(values).view(t->sizes()).set_requires_grad(true);
    p->m.push_back(torch::zeros_like(*t));
    p->v.push_back(torch::zeros_like(*t));
  }
  policy_ = std::move(p);
}

double RlController::reward(const Evaluation& e) const {
  const auto& objs = objectives();
  double r = 0;
  if (options_.reward() == "mnasnet") {
    HWNAS_CHECK_T(ConfigError, objs.size() >= 2, "rl strategy: the \"mnasnet\" reward needs two objectives: accuracy "
                  "first, latency second");
    const double acc = e.objectives[0], lat = e.objectives[1];
    const double w = lat <= options_.target() ? options_.alpha() : options_.beta();
    r = acc * std::pow(std::max(lat, 1e-12) / options_.target(), w);
  } else {
    r = objs[0].direction == Direction::kMaximize ? e.objectives[0] : -e.objectives[0];
  }
  return r - options_.penalty() * e.violation;
}

std::vector<Arch> RlController::do_ask(int64_t n) {
  ensure_policy();
  auto& p = *policy_;
  std::vector<Arch> out;
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < n; ++i) {
    Arch arch;
    std::vector<int64_t> actions;
    // Archs that break the space's rules are drawn again; after 100 tries, a random arch.
    for (int tries = 0; tries < 100 && arch.empty(); ++tries) {
      actions = p.run(1, nullptr, &rng(), options_).actions[0];
      try {
        arch = space().make(std::vector<int>(actions.begin(), actions.end()));
      } catch (const InvalidArchError&) {
      }
    }
    if (arch.empty()) {
      arch = space().sample(rng());
      actions.assign(arch.genes().begin(), arch.genes().end());
    }
    p.pending[arch.str()].push_back(actions);
    out.push_back(std::move(arch));
  }
  return out;
}

void RlController::do_tell(const std::vector<Evaluation>& evals) {
  ensure_policy();
  auto& p = *policy_;
  std::vector<std::vector<int64_t>> actions;
  std::vector<float> advantages;
  for (const auto& e : evals) {
    auto it = p.pending.find(e.arch.str());
    if (it != p.pending.end()) {
      actions.push_back(it->second.front());
      it->second.erase(it->second.begin());
      if (it->second.empty()) p.pending.erase(it);
    } else {  // told without being asked: score its genes
      actions.emplace_back(e.arch.genes().begin(), e.arch.genes().end());
    }
    const double r = reward(e);
    if (!p.has_baseline) {
      p.baseline = r;
      p.has_baseline = true;
    }
    advantages.push_back(static_cast<float>(r - p.baseline));
    p.baseline = options_.baseline_decay() * p.baseline + (1 - options_.baseline_decay()) * r;
  }
  if (actions.empty()) return;
  const auto pass = p.run(static_cast<int64_t>(actions.size()), &actions, nullptr, options_);
  const auto loss = -(pass.log_prob * torch::tensor(advantages)).mean() - options_.entropy_weight() * pass.entropy.mean();
  auto params = p.parameters();
  for (auto* t : params)
    if (t->grad().defined()) t->mutable_grad().zero_();
  loss.backward();
  // Adam (Kingma & Ba 2015), beta1 0.9, beta2 0.999, eps 1e-8.
  ++p.step;
  const double c1 = 1 - std::pow(0.9, static_cast<double>(p.step)), c2 = 1 - std::pow(0.999, static_cast<double>(p.step));
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) {
    auto& t = *params[k];
    if (!t.grad().defined()) continue;
    const auto& g = t.grad();
    p.m[k].mul_(0.9).add_(g, 0.1);
    p.v[k].mul_(0.999).addcmul_(g, g, 0.001);
    t.sub_(options_.lr() * (p.m[k] / c1) / ((p.v[k] / c2).sqrt() + 1e-8));
  }
}

std::vector<std::vector<double>> RlController::greedy_probabilities() {
  ensure_policy();
  torch::NoGradGuard no_grad;
  // Greedy: feed back the most likely option at each step.
  std::vector<std::vector<int64_t>> actions(1);
  std::vector<std::vector<double>> probs;
  for (size_t i = 0; i < policy_->sizes.size(); ++i) {
    auto trial = actions;
    trial[0].resize(policy_->sizes.size(), 0);
    const auto pass = policy_->run(1, &trial, nullptr, options_);
    const auto& row = pass.probs[i];
    actions[0].push_back(std::max_element(row.begin(), row.end()) - row.begin());
    probs.push_back(row);
  }
  return probs;
}

nlohmann::json RlController::do_state() const {
  if (!policy_) return nlohmann::json::object();
  auto& p = *policy_;
  nlohmann::json params = nlohmann::json::array(), m = nlohmann::json::array(), v = nlohmann::json::array();
  for (auto* t : p.parameters()) params.push_back(to_vector(*t));
  for (const auto& t : p.m) m.push_back(to_vector(t));
  for (const auto& t : p.v) v.push_back(to_vector(t));
  return {{"params", params}, {"adam_m", m}, {"adam_v", v}, {"step", p.step}, {"baseline", p.baseline},
          {"has_baseline", p.has_baseline}, {"pending", p.pending}};
}

void RlController::do_load_state(const nlohmann::json& s) {
  policy_.reset();
  if (s.empty()) return;  // saved before the first ask
  ensure_policy();
  auto& p = *policy_;
  auto params = p.parameters();
  const auto& saved = s.at("params");
  HWNAS_CHECK_T(DataError, saved.size() == params.size() && s.at("adam_m").size() == params.size() &&
                               s.at("adam_v").size() == params.size(),
                "rl strategy state: ", saved.size(), " parameter tensors, expected ", params.size());
  for (size_t k = 0; k < params.size(); ++k) {
    from_vector(*params[k], floats(saved[k], "params"), "params");
    from_vector(p.m[k], floats(s.at("adam_m")[k], "adam_m"), "adam_m");
    from_vector(p.v[k], floats(s.at("adam_v")[k], "adam_v"), "adam_v");
  }
  p.step = json_integer<int64_t>(s.at("step"), "rl strategy state: \"step\"");
  p.baseline = s.at("baseline").get<double>();
  p.has_baseline = s.at("has_baseline").get<bool>();
  // Each pending arch's actions: one valid option index per choice of the space.
  const auto& choices = space().choices();
  HWNAS_CHECK_T(DataError, s.at("pending").is_object(), "rl strategy state: \"pending\" is not an object");
  p.pending.clear();
  for (const auto& [arch, lists] : s.at("pending").items()) {
    for (const auto& list : lists) {
      HWNAS_CHECK_T(DataError, list.is_array() && list.size() == choices.size(), "rl strategy state: the pending "
                    "actions of '", arch, "' are not one per choice (", choices.size(), ")");
      std::vector<int64_t> actions;
      for (size_t c = 0; c < choices.size(); ++c) {
        const auto a = json_integer<int64_t>(list[c], "rl strategy state: a pending action");
        HWNAS_CHECK_T(DataError, a >= 0 && a < static_cast<int64_t>(choices[c].options.size()), "rl strategy "
                      "state: pending action ", a, " of '", arch, "' is no option of choice ", choices[c].name);
        actions.push_back(a);
      }
      p.pending[arch].push_back(std::move(actions));
    }
  }
}

}  // namespace hwnas::strategy

// The hardware-aware part of differentiable search: per-option table latencies, expected
// latency, the hardware term of the architecture loss, and the projection of a derived
// arch into the latency target.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"
#include "hwnas/cost/latency_table.h"
#include "oneshot/differentiable_detail.h"

namespace hwnas::oneshot::detail {

torch::Tensor SearchState::expected_latency() const {
  auto e = torch::full({}, base_ms, torch::kFloat32);
  for (size_t c = 0; c < alphas.size(); ++c) e = e + (probs(c) * costs[c]).sum();
  return e;
}

// The architecture loss: CE with the hardware term.
torch::Tensor SearchState::arch_objective(const torch::Tensor& ce) const {
  const auto& hw = o.hardware();
  if (hw.form() == "none") return ce;
  const double target = hw.target_ms();
  auto e = expected_latency();
  if (hw.form() == "proxyless") return ce + hw.lambda() * (e - target) / target;
  if (hw.form() == "hinge") return ce + hw.lambda() * torch::relu(e - target) / target;
  // FBNet / ProxylessNAS "mul#log", in microseconds so that the logarithms are positive.
  return ce * hw.alpha() * torch::pow(torch::log(e * 1000.0) / std::log(target * 1000.0), hw.beta());
}

// With a hardware loss, the derived arch must meet the target, which the loss asks of
// E[lat] only: while the arch is slower than the target, switch the decision whose move
// to a faster option gives up the least log-probability per ms saved, skipping moves that
// leave a network whose output ignores its input (e.g. an nb201 cell whose output node
// gets "none" from every edge) unless no other is left. The fastest arch meets the target
// (checked at the start), so this ends within it.
Arch SearchState::within_target(Arch arch) const {
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
bool SearchState::carries_signal(const Arch& arch) const {
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

double SearchState::table_latency(const Arch& arch) const { return latency ? latency->predict(arch) : 0.0; }

// Per decision and option, the table latency it adds over the reference arch (each
// decision's first allowed option): exact when the table sums per-layer entries and each
// decision's layers depend on it alone, as in the built-in spaces.
void SearchState::setup_latency() {
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

}  // namespace hwnas::oneshot::detail

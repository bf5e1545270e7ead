#pragma once
// An RL controller (Zoph & Le 2017, NASNet; ENAS, Pham et al. 2018): an LSTM policy
// (LibTorch) emits the space's choices one after another, each conditioned on the
// previous ones; it learns with REINFORCE, a moving-average baseline and an entropy bonus.
// Registered as "rl". Works on every space through its choices (archs breaking a space's
// rules are drawn again).
//
// Reward (higher is better) from the told objectives:
//   "objective": the first objective, negated when it is minimised;
//   "mnasnet":   MnasNet (Tan et al. 2019) acc * (lat / target)^w, with acc the first
//                objective, lat the second, w = alpha if lat <= target else beta.
// An arch breaking the constraints loses `penalty` x its violation.
#include <memory>
#include <string>
#include <vector>

#include "hwnas/core/options.h"
#include "hwnas/strategy/strategy.h"

namespace hwnas::strategy {

struct RlOptions {
  HWNAS_ARG(int64_t, hidden) = 64;
  /// Adam learning rate of the policy.
  HWNAS_ARG(double, lr) = 0.005;
  /// The baseline follows rewards as b <- decay * b + (1 - decay) * reward.
  HWNAS_ARG(double, baseline_decay) = 0.95;
  /// Weight of the policy's entropy in the loss (exploration).
  HWNAS_ARG(double, entropy_weight) = 1e-3;
  /// Logits are tanh_constant * tanh(logits / temperature) (ENAS; 0 = plain logits).
  HWNAS_ARG(double, tanh_constant) = 2.5;
  HWNAS_ARG(double, temperature) = 1.0;
  /// "objective" or "mnasnet".
  HWNAS_ARG(std::string, reward) = "objective";
  /// MnasNet: the latency target (in the second objective's unit) and exponents.
  HWNAS_ARG(double, target) = 0;
  HWNAS_ARG(double, alpha) = -0.07;
  HWNAS_ARG(double, beta) = -0.07;
  HWNAS_ARG(double, penalty) = 1.0;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("hidden", self.hidden_, 1, 4096);
    v.field("lr", self.lr_, 0.0, 10.0);
    v.field("baseline_decay", self.baseline_decay_, 0.0, 1.0);
    v.field("entropy_weight", self.entropy_weight_, 0.0, 100.0);
    v.field("tanh_constant", self.tanh_constant_, 0.0, 100.0);
    v.field("temperature", self.temperature_, 1e-6, 1e6);
    v.field("reward", self.reward_, {"objective", "mnasnet"});
    v.field("target", self.target_, 0.0, 1e300);
    v.field("alpha", self.alpha_, -100.0, 100.0);
    v.field("beta", self.beta_, -100.0, 100.0);
    v.field("penalty", self.penalty_, 0.0, 1e300);
  }
  /// The ranges above and, for the mnasnet reward, a target > 0.
  void validate() const;
  static RlOptions from_json(const nlohmann::json& config);
  nlohmann::json to_json() const;
};

class RlController : public Strategy {
 public:
  explicit RlController(RlOptions options);
  ~RlController() override;
  std::string name() const override { return "rl"; }
  nlohmann::json config() const override { return options_.to_json(); }

  /// The reward an evaluation earns (see the header comment).
  double reward(const Evaluation& e) const;
  /// Probability of each option of each choice when choices are taken greedily (the
  /// policy's current preference; for inspection and tests).
  std::vector<std::vector<double>> greedy_probabilities();

 protected:
  std::vector<Arch> do_ask(int64_t n) override;
  void do_tell(const std::vector<Evaluation>& evaluations) override;
  nlohmann::json do_state() const override;
  void do_load_state(const nlohmann::json& state) override;

 private:
  struct Policy;
  void ensure_policy();
  RlOptions options_;
  std::unique_ptr<Policy> policy_;
};

}  // namespace hwnas::strategy

#pragma once
// Differentiable architecture search on a space's mixed supernet (hwnas/nn/mixed.h):
//
//   darts      DARTS (Liu et al. 2019): every option of every decision, weighted by
//              softmax(alpha); bilevel: weights on one half of the training data (SGD),
//              alphas on the other half (Adam); first order, or second order with the
//              unrolled weight step and a finite-difference Hessian-vector product.
//   pcdarts    PC-DARTS (Xu et al. 2020): DARTS with 1/K of each edge's channels through
//              the mixed op and a channel shuffle (nb201, darts; partial_channels, default
//              4), and edge normalisation where nodes choose among inputs (darts).
//   gdas       GDAS (Dong & Yang 2019): one op per decision drawn by hard Gumbel-softmax
//              (straight-through), temperature annealed from tau_max to tau_min.
//   fbnet      FBNet (Wu et al. 2019): soft Gumbel-softmax mixture, annealed temperature.
//   proxyless  ProxylessNAS (Cai et al. 2019): binarized paths; a weight step runs one op
//              drawn from softmax(alpha), an arch step two drawn candidates (memory near one
//              model), and the unsampled alphas keep their share of the probability.
//
// Hardware-aware loss from a latency table (spaces whose mixed decisions are their arch
// choices: nb201, mobilenet): E[lat] = sum over decisions and options of p(option) x the
// option's table latency (exact for tables that add up per layer), and
//   "proxyless"  CE + lambda * (E[lat] - target) / target
//   "hinge"      CE + lambda * max(0, E[lat] - target) / target   (no pull below the target)
//   "fbnet"      CE * alpha * (log E[lat] / log target)^beta   (latencies in microseconds)
// Selection of the final arch: argmax of the alphas, or "pt", the perturbation-based
// selection of DARTS-PT (Wang et al. 2021): decision by decision, the option whose removal
// from the mixture costs the most validation accuracy.
//
// Example:
//   DifferentiableSearch search(space, DifferentiableOptions().method("gdas").epochs(5));
//   search.run(train_data);
//   Arch best = search.select(valid_data);
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/arch.h"
#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"

namespace hwnas {
class SearchSpace;
namespace cost {
class LatencyModel;
}
}  // namespace hwnas

namespace hwnas::oneshot {

/// The method names: darts, pcdarts, gdas, fbnet, proxyless (each registered in
/// oneshot::method_registry(), hwnas/oneshot/method.h).
const std::vector<std::string>& differentiable_methods();

struct HardwareLossOptions {
  /// "none", "proxyless" (additive), "hinge" (additive above the target only) or "fbnet"
  /// (multiplicative, logarithmic).
  HWNAS_ARG(std::string, form) = "none";
  /// The latency table's device (a key of the experiment's "latency_tables").
  HWNAS_ARG(std::string, device);
  /// Latency target in ms (required by every form).
  HWNAS_ARG(double, target_ms) = 0;
  HWNAS_ARG(double, lambda) = 0.1;
  HWNAS_ARG(double, alpha) = 0.2;
  HWNAS_ARG(double, beta) = 0.6;
  /// The derived arch meets the target: while the most probable arch is slower, the
  /// decision that gives up the least log-probability per ms saved moves to a faster
  /// option. (The losses only steer the expected latency, which the arch may miss.)
  HWNAS_ARG(bool, within_target) = true;

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("form", self.form_, {"none", "proxyless", "hinge", "fbnet"});
    v.field("device", self.device_);
    v.field("target_ms", self.target_ms_, 0, 1e9);
    v.field("lambda", self.lambda_, 0, 1e6);
    v.field("alpha", self.alpha_, 1e-9, 1e6);
    v.field("beta", self.beta_, 0, 100);
    v.field("within_target", self.within_target_);
  }
};

struct DifferentiableOptions {
  HWNAS_ARG(std::string, method) = "darts";
  /// DARTS / PC-DARTS architecture gradient: 1 (first order) or 2 (unrolled).
  HWNAS_ARG(int, order) = 1;
  HWNAS_ARG(int64_t, epochs) = 10;
  /// Epochs that train the weights only (alphas frozen) before the bilevel steps.
  HWNAS_ARG(int64_t, warmup_epochs) = 0;
  HWNAS_ARG(int64_t, batch_size) = 64;
  /// Steps per epoch; 0: one pass over the weights' half of the data.
  HWNAS_ARG(int64_t, steps_per_epoch) = 0;
  /// Share of the training data for the weights; the rest trains the alphas.
  HWNAS_ARG(double, train_portion) = 0.5;
  HWNAS_ARG(double, weight_lr) = 0.025;
  /// Cosine decay of weight_lr per epoch down to this.
  HWNAS_ARG(double, weight_lr_min) = 0.001;
  HWNAS_ARG(double, momentum) = 0.9;
  HWNAS_ARG(double, weight_decay) = 3e-4;
  /// Gradient norm clipping of the weights (0: none).
  HWNAS_ARG(double, grad_clip) = 5;
  HWNAS_ARG(double, arch_lr) = 3e-4;
  HWNAS_ARG(double, arch_weight_decay) = 1e-3;
  /// PC-DARTS' K (0: 4 for pcdarts, 1 otherwise).
  HWNAS_ARG(int64_t, partial_channels) = 0;
  /// Gumbel temperature, annealed exponentially from tau_max (first epoch) to tau_min (last).
  HWNAS_ARG(double, tau_max) = 10;
  HWNAS_ARG(double, tau_min) = 0.1;
  HWNAS_ARG(HardwareLossOptions, hardware) = HardwareLossOptions();
  /// PC-DARTS' edge normalisation (a softmax weight per input of a node, learned with the
  /// alphas and multiplied into the arch's edge strengths): "auto" (on for pcdarts where
  /// nodes choose among inputs, i.e. the darts space), "on" or "off".
  HWNAS_ARG(std::string, edge_normalization) = "auto";
  /// "argmax" or "pt" (DARTS-PT).
  HWNAS_ARG(std::string, selection) = "argmax";
  /// DARTS-PT: validation batches per accuracy measurement, and weight steps between
  /// decisions (the paper's fine-tuning; 0: none).
  HWNAS_ARG(int64_t, pt_batches) = 4;
  HWNAS_ARG(int64_t, pt_tune_steps) = 0;
  HWNAS_ARG(uint64_t, seed) = 0;
  /// Written at the end of every epoch (weights, alphas, optimizers, reports); "" = none.
  HWNAS_ARG(std::string, checkpoint);

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("name", self.method_, differentiable_methods());
    v.field("order", self.order_, 1, 2);
    v.field("epochs", self.epochs_, 1, 100000);
    v.field("warmup_epochs", self.warmup_epochs_, 0, 100000);
    v.field("batch_size", self.batch_size_, 1, 65536);
    v.field("steps_per_epoch", self.steps_per_epoch_, 0, 100000000);
    v.field("train_portion", self.train_portion_, 0.01, 0.99);
    v.field("weight_lr", self.weight_lr_, 1e-8, 100);
    v.field("weight_lr_min", self.weight_lr_min_, 0, 100);
    v.field("momentum", self.momentum_, 0, 0.999);
    v.field("weight_decay", self.weight_decay_, 0, 1);
    v.field("grad_clip", self.grad_clip_, 0, 1e6);
    v.field("arch_lr", self.arch_lr_, 1e-8, 100);
    v.field("arch_weight_decay", self.arch_weight_decay_, 0, 1);
    v.field("partial_channels", self.partial_channels_, 0, 64);
    v.field("tau_max", self.tau_max_, 1e-3, 1e3);
    v.field("tau_min", self.tau_min_, 1e-3, 1e3);
    v.field("edge_normalization", self.edge_normalization_, {"auto", "on", "off"});
    v.field("selection", self.selection_, {"argmax", "pt"});
    v.field("pt_batches", self.pt_batches_, 1, 100000);
    v.field("pt_tune_steps", self.pt_tune_steps_, 0, 100000000);
    v.field("seed", self.seed_);
    v.field("checkpoint", self.checkpoint_);
    v.nested("hardware", self.hardware_);
  }
  /// Ranges and the rules between fields; DifferentiableSearch calls it.
  void validate() const;
  /// Reads the JSON form (the same names; "hardware": {...}); "name" is the method.
  /// Unknown keys and bad values throw ConfigError.
  static DifferentiableOptions from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

/// What one epoch did.
struct EpochReport {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy = 0;  // weight steps
  double arch_loss = 0, arch_accuracy = 0;    // architecture steps (0 in warm-up)
  double tau = 0;                             // Gumbel temperature (gdas, fbnet)
  double expected_latency_ms = 0;             // E[lat] (hardware loss only)
  double derived_latency_ms = 0;              // table latency of `derived`
  Arch derived;                               // argmax of the alphas
  /// softmax(alpha) per decision (disallowed options: 0).
  std::vector<std::vector<double>> probabilities;
  double seconds = 0;
  nlohmann::json to_json() const;
};

class DifferentiableSearch {
 public:
  /// `latency` is needed when options.hardware().form() != "none". Throws ConfigError if the
  /// space has no mixed supernet, the method does not fit it, or the latency target is below
  /// the fastest arch of the space.
  DifferentiableSearch(std::shared_ptr<const SearchSpace> space, DifferentiableOptions options,
                       std::shared_ptr<const cost::LatencyModel> latency = nullptr);
  ~DifferentiableSearch();
  DifferentiableSearch(const DifferentiableSearch&) = delete;
  DifferentiableSearch& operator=(const DifferentiableSearch&) = delete;

  /// Runs the remaining epochs (all, or those after a loaded checkpoint), calling
  /// `on_epoch` after each; stops early after an epoch when `stop` becomes true. Throws
  /// Error naming the epoch, step and last checkpoint if a loss becomes NaN or infinite.
  std::vector<EpochReport> run(const data::Dataset& train,
                               const std::function<void(const EpochReport&)>& on_epoch = {},
                               const std::atomic<bool>* stop = nullptr);
  /// Epochs completed.
  int64_t epoch() const;
  const DifferentiableOptions& options() const;
  /// Every epoch's report so far (kept in checkpoints).
  const std::vector<EpochReport>& reports() const;
  /// softmax(alpha) per decision.
  std::vector<std::vector<double>> probabilities() const;
  /// The raw alphas per decision (disallowed options: -inf).
  std::vector<std::vector<double>> alphas() const;
  /// Argmax of the alphas over the allowed options.
  Arch derive() const;
  /// The final arch by options().selection(): argmax, or DARTS-PT on `valid`.
  Arch select(const data::Dataset& valid);
  /// Expected latency (ms) under the current alphas; 0 without a latency model.
  double expected_latency_ms() const;
  /// The hardware loss's latency of one arch (E[lat] of the distribution that is one-hot on
  /// it): the table latency when the table adds up per layer; 0 without a model.
  double additive_latency_ms(const Arch& arch) const;
  /// Latency (ms) of the fastest arch of the space by the table; 0 without a model.
  double fastest_latency_ms() const;

  /// Whole state (supernet weights and BN statistics, alphas, optimizers, epoch, reports).
  void save(const std::string& path) const;
  /// Loads a save() of a search with the same space and options; throws DataError naming
  /// the problem otherwise.
  void load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hwnas::oneshot

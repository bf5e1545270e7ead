#pragma once
// Single-path supernet training, for inherited-weight evaluation (estimate/inherited.h):
//
//   uniform   SPOS (Guo et al. 2020): one arch drawn uniformly per step.
//   sandwich  BigNAS / OFA: each step the largest, the smallest and `random_subnets` random
//             archs, gradients summed; with in-place distillation the others learn the
//             largest arch's soft predictions instead of the labels.
// Progressive shrinking (OFA space, Cai et al. 2020): the epochs are split into three
// phases; phase 1 varies kernel sizes (and resolution), phase 2 also depths, phase 3 also
// expand ratios; choices not yet elastic take the largest value.
//
// "Largest" and "smallest" are per choice the options with the most and fewest MACs
// (all other choices held), e.g. nb201: every edge conv 3x3 / every edge none.
//
// Example:
//   SupernetTrainer trainer(space, SupernetTrainOptions().rule("sandwich").epochs(5));
//   trainer.run(train_data);
//   trainer.save_weights("supernet.pt");   // for {"name": "inherited", "supernet": ...}
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
namespace nn {
class Supernet;
}
}  // namespace hwnas

namespace hwnas::oneshot {

struct SupernetTrainOptions {
  /// "uniform" or "sandwich".
  HWNAS_ARG(std::string, rule) = "uniform";
  /// Sandwich: random archs per step besides the largest and the smallest.
  HWNAS_ARG(int64_t, random_subnets) = 2;
  /// Sandwich: in-place distillation from the largest arch.
  HWNAS_ARG(bool, distill) = true;
  /// "" or "ofa" (progressive shrinking; OFA space only).
  HWNAS_ARG(std::string, progressive);
  HWNAS_ARG(int64_t, epochs) = 1;
  /// Steps per epoch; 0: one pass over the data.
  HWNAS_ARG(int64_t, steps_per_epoch) = 0;
  HWNAS_ARG(int64_t, batch_size) = 64;
  /// SGD with Nesterov momentum, cosine decay per step from lr to 0.
  HWNAS_ARG(double, lr) = 0.05;
  HWNAS_ARG(double, momentum) = 0.9;
  HWNAS_ARG(double, weight_decay) = 3e-5;
  HWNAS_ARG(double, grad_clip) = 5;
  HWNAS_ARG(uint64_t, seed) = 0;
  /// Written after every epoch (weights, optimizer, epoch); "" = none.
  HWNAS_ARG(std::string, checkpoint);

 public:
  template <typename Self, typename V>
  static void fields(Self& self, V& v) {  // hwnas/core/option_fields.h
    v.field("rule", self.rule_, {"uniform", "sandwich"});
    v.field("random_subnets", self.random_subnets_, 0, 64);
    v.field("distill", self.distill_);
    v.field("progressive", self.progressive_, {"", "ofa"});
    v.field("epochs", self.epochs_, 1, 100000);
    v.field("steps_per_epoch", self.steps_per_epoch_, 0, 100000000);
    v.field("batch_size", self.batch_size_, 1, 65536);
    v.field("lr", self.lr_, 1e-8, 100);
    v.field("momentum", self.momentum_, 0, 0.999);
    v.field("weight_decay", self.weight_decay_, 0, 1);
    v.field("grad_clip", self.grad_clip_, 0, 1e6);
    v.field("seed", self.seed_);
    v.field("checkpoint", self.checkpoint_);
  }
  /// Throws ConfigError naming a field out of its range (SupernetTrainer calls it).
  void validate() const;
  /// The JSON form (same names); unknown keys and bad values throw ConfigError.
  static SupernetTrainOptions from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

struct SupernetEpoch {
  int64_t epoch = 0;  // 1-based
  int phase = 0;      // progressive shrinking phase (1-3), 0 without
  double loss = 0;    // mean loss of the step's archs (the largest: CE)
  double largest_accuracy = 0;  // training accuracy of the archs drawn (sandwich: the largest)
  double seconds = 0;
  nlohmann::json to_json() const;
};

class SupernetTrainer {
 public:
  /// Throws ConfigError if the space has no supernet or the options do not fit it.
  SupernetTrainer(std::shared_ptr<const SearchSpace> space, SupernetTrainOptions options);
  ~SupernetTrainer();
  SupernetTrainer(const SupernetTrainer&) = delete;
  SupernetTrainer& operator=(const SupernetTrainer&) = delete;

  /// Trains the remaining epochs; stops after an epoch when `stop` becomes true. Throws
  /// Error naming the epoch, step and last checkpoint if the loss becomes NaN or infinite.
  std::vector<SupernetEpoch> run(const data::Dataset& train,
                                 const std::function<void(const SupernetEpoch&)>& on_epoch = {},
                                 const std::atomic<bool>* stop = nullptr);
  int64_t epoch() const;
  const std::vector<SupernetEpoch>& reports() const;
  std::shared_ptr<nn::Supernet> supernet() const;
  /// The per-choice largest and smallest archs the sandwich rule trains.
  Arch largest() const;
  Arch smallest() const;
  /// The supernet's weights alone, as the inherited evaluator loads them.
  void save_weights(const std::string& path) const;
  /// Whole training state, and its reload (same space and options; epochs may grow).
  void save(const std::string& path) const;
  void load(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hwnas::oneshot

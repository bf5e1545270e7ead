#pragma once
// Final training of a found architecture with the standard recipe: SGD with momentum and
// Nesterov, linear warm-up then cosine decay, weight decay, label smoothing, data
// augmentation, the auxiliary head and drop-path of DARTS networks, gradient clipping;
// a checkpoint after every epoch and an exact resume.
//
// The training data may be streamed (a folder larger than memory): batches are read by
// data::Loader's workers into a bounded queue.
//
// Deterministic given the seed, also across a resume and whatever the number of workers:
// the batch order, each sample's augmentation and LibTorch's global generator (drop-path
// masks) are reseeded from (seed, epoch) at the start of every epoch, so a run resumed from epoch k's checkpoint ends with the same
// weights as the run that was never interrupted.
//
// Example:
//   auto net = space->build(arch);
//   auto result = train::train_final(*net, train_data, &test_data,
//       train::FinalTrainingOptions().epochs(10).checkpoint_dir("run/ckpt"));
//   // result.test_accuracy, result.to_json()
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/core/options.h"
#include "hwnas/data/dataset.h"
#include "hwnas/data/loader.h"
#include "hwnas/nn/network.h"
#include "hwnas/train/trainer.h"

namespace hwnas::train {

/// Progress after each step, for a progress bar.
struct FinalProgress {
  int64_t epoch = 0, epochs = 0;  // 1-based epoch
  int64_t step = 0, steps = 0;    // within the epoch
  double loss = 0, accuracy = 0;  // running means over the epoch so far
  double lr = 0;
  double elapsed = 0, eta = 0;    // seconds: this process's training so far, and left
};

/// One finished epoch.
struct EpochRecord {
  int64_t epoch = 0;
  double lr = 0;  // at the epoch's last step
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;  // on the test data (0 if none given)
  double seconds = 0;
};

struct FinalTrainingOptions {
  HWNAS_ARG(int64_t, epochs) = 10;
  HWNAS_ARG(int64_t, batch_size) = 96;
  /// Cap on the steps of each epoch (0: one full pass over the data).
  HWNAS_ARG(int64_t, steps_per_epoch) = 0;
  /// Peak learning rate, reached after the warm-up, then cosine decay to `min_lr`.
  HWNAS_ARG(double, lr) = 0.05;
  HWNAS_ARG(double, min_lr) = 0;
  /// Epochs of linear warm-up, fewer than epochs (the last epoch always decays); -1: one
  /// epoch when there are two or more, none for a single epoch.
  HWNAS_ARG(int64_t, warmup_epochs) = -1;
  HWNAS_ARG(double, momentum) = 0.9;
  HWNAS_ARG(bool, nesterov) = true;
  HWNAS_ARG(double, weight_decay) = 3e-4;
  HWNAS_ARG(double, label_smoothing) = 0.1;
  /// Weight of the auxiliary head's loss, for networks that have one (DARTS, auxiliary).
  HWNAS_ARG(double, auxiliary_weight) = 0.4;
  /// Final drop-path probability, reached linearly over the epochs (networks with cells).
  HWNAS_ARG(double, drop_path) = 0;
  /// Augment the training samples as `augmentation` says (default: random shifts of up
  /// to 1/14 of the image side, filled with the value of a raw 0, and horizontal flips).
  HWNAS_ARG(bool, augment) = true;
  /// Per sample, from (seed, epoch, the sample's index). An empty fill is the normalised
  /// value of a raw 0 (from the training data's input contract; else 0).
  HWNAS_ARG(data::Augmentation, augmentation) = data::Augmentation().pad(-1).flip(true);
  /// Threads reading and augmenting batches (-1: one per core for a streamed dataset or
  /// augmented batches, none otherwise).
  HWNAS_ARG(int64_t, workers) = -1;
  /// Largest gradient norm (0: no clipping).
  HWNAS_ARG(double, grad_clip) = 5;
  HWNAS_ARG(int64_t, eval_batch_size) = 256;
  HWNAS_ARG(uint64_t, seed) = 0;
  /// Folder of the per-epoch checkpoint (empty: none is written).
  HWNAS_ARG(std::string, checkpoint_dir);
  /// Continue from the checkpoint in `checkpoint_dir` (if there is one).
  HWNAS_ARG(bool, resume) = false;
  /// Identifies what is trained (e.g. space, config and arch); a resume refuses a
  /// checkpoint written for another one.
  HWNAS_ARG(std::string, fingerprint);
  HWNAS_ARG(std::function<void(const FinalProgress&)>, on_progress);
  HWNAS_ARG(std::function<void(const EpochRecord&)>, on_epoch);
  /// Asked after every step; true stops after the step (the last finished epoch's
  /// checkpoint stays, for a resume).
  HWNAS_ARG(std::function<bool()>, should_stop);


 public:
  /// Throws ConfigError naming the first field out of range (train_final calls it; so
  /// do callers that write files before training, to refuse bad options first).
  void validate() const;
  /// The recipe's settings (not the callbacks) as JSON.
  nlohmann::json to_json() const;
};

struct FinalTrainingResult {
  std::vector<EpochRecord> history;  // every finished epoch, resumed ones included
  int64_t resumed_from = 0;          // epochs loaded from the checkpoint
  bool stopped = false;              // should_stop ended the run early
  double test_loss = 0, test_accuracy = 0;  // after the last epoch (0 if no test data)
  double seconds = 0;                // this process's training time

  nlohmann::json to_json() const;
};

/// Trains `net` in place. `test` (may be null) is evaluated after every epoch. Throws
/// ConfigError for bad options or when `checkpoint_dir` already holds a checkpoint and
/// `resume` is false (nothing is overwritten), DataError for a checkpoint of another
/// network or fingerprint, Error if the loss becomes NaN.
FinalTrainingResult train_final(nn::Network& net, const data::Dataset& train, const data::Dataset* test,
                                const FinalTrainingOptions& options);

/// The checkpoint file in a checkpoint folder.
std::string checkpoint_path(const std::string& checkpoint_dir);

/// Weights (parameters and buffers) of a network to a file and back. load_weights checks
/// every name and shape and throws DataError naming the first that differs.
void save_weights(nn::Network& net, const std::string& path);
void load_weights(nn::Network& net, const std::string& path);

}  // namespace hwnas::train

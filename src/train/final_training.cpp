#include "hwnas/train/final_training.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/archive.h"
#include "train/training_checkpoint.h"
#include "train/optimizer_state.h"
#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/core/random.h"
#include "hwnas/nn/drop_path.h"

namespace hwnas::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

nlohmann::json record_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},           {"lr", r.lr},
          {"train_loss", r.train_loss}, {"train_accuracy", r.train_accuracy},
          {"test_loss", r.test_loss},   {"test_accuracy", r.test_accuracy},
          {"seconds", r.seconds}};
}

EpochRecord record_from(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = json_integer<int64_t>(j.at("epoch"), "an epoch record's \"epoch\"");
  r.lr = j.at("lr").get<double>();
  r.train_loss = j.at("train_loss").get<double>();
  r.train_accuracy = j.at("train_accuracy").get<double>();
  r.test_loss = j.at("test_loss").get<double>();
  r.test_accuracy = j.at("test_accuracy").get<double>();
  r.seconds = j.value("seconds", 0.0);  // kept beside the checkpoint (load_timings)
  return r;
}

// Learning rate at global step t of `total`: linear warm-up over `warmup` steps, then
// cosine from lr to min_lr.
double lr_at(const FinalTrainingOptions& o, int64_t t, int64_t warmup, int64_t total) {
  if (t < warmup) return o.lr() * static_cast<double>(t + 1) / static_cast<double>(warmup);
  const double progress = static_cast<double>(t - warmup) / static_cast<double>(std::max<int64_t>(total - warmup, 1));
  return o.min_lr() + 0.5 * (o.lr() - o.min_lr()) * (1 + std::cos(M_PI * progress));
}

// The normalised value of a raw 0 in each channel (the padding of a shift of the raw
// image), from the input contract; 0 when the data did not say.
std::vector<double> raw_zero(const data::Dataset& d) {
  const auto channels = d.sample_shape()[0];
  const auto norm = d.input.is_object() ? d.input.value("normalize", nlohmann::json()) : nlohmann::json();
  if (!norm.is_object()) return std::vector<double>(static_cast<size_t>(channels), 0.0);
  const auto mean = norm.at("mean").get<std::vector<double>>(), stdev = norm.at("std").get<std::vector<double>>();
  std::vector<double> fill;
  for (size_t c = 0; c < mean.size(); ++c) fill.push_back(-mean[c] / stdev[c]);
  if (static_cast<int64_t>(fill.size()) != channels) fill.assign(static_cast<size_t>(channels), fill.empty() ? 0.0 : fill[0]);
  return fill;
}

uint64_t epoch_seed(uint64_t seed, int64_t epoch) {
  Rng mix(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch));
  return mix.next();
}

}  // namespace

void FinalTrainingOptions::validate() const {
  const auto& o = *this;
  HWNAS_CHECK_T(ConfigError, o.epochs() >= 1, "epochs must be >= 1, got ", o.epochs());
  HWNAS_CHECK_T(ConfigError, o.batch_size() >= 1, "batch_size must be >= 1, got ", o.batch_size());
  HWNAS_CHECK_T(ConfigError, o.steps_per_epoch() >= 0, "steps_per_epoch must be >= 0 (0: full epochs)");
  HWNAS_CHECK_T(ConfigError, o.lr() > 0 && std::isfinite(o.lr()), "lr must be positive, got ", o.lr());
  HWNAS_CHECK_T(ConfigError, o.min_lr() >= 0 && o.min_lr() <= o.lr(), "min_lr must be in [0, lr], got ", o.min_lr());
  HWNAS_CHECK_T(ConfigError, o.warmup_epochs() == -1 || (o.warmup_epochs() >= 0 && o.warmup_epochs() < o.epochs()),
                "warmup_epochs (--warmup-epochs) must be fewer than the ", o.epochs(),
                " epochs (the last epoch decays the learning rate), or -1 for automatic, got ", o.warmup_epochs());
  HWNAS_CHECK_T(ConfigError, o.label_smoothing() >= 0 && o.label_smoothing() < 1,
                "label_smoothing must be in [0, 1), got ", o.label_smoothing());
  HWNAS_CHECK_T(ConfigError, o.drop_path() >= 0 && o.drop_path() < 1, "drop_path must be in [0, 1), got ",
                o.drop_path());
  HWNAS_CHECK_T(ConfigError, o.auxiliary_weight() >= 0, "auxiliary_weight must be >= 0");
  HWNAS_CHECK_T(ConfigError, o.weight_decay() >= 0 && o.momentum() >= 0 && o.grad_clip() >= 0,
                "weight_decay, momentum and grad_clip must be >= 0");
  HWNAS_CHECK_T(ConfigError, o.workers() >= -1 && o.workers() <= 256, "workers must be -1 (automatic) to 256, got ",
                o.workers());
  o.augmentation().validate();
}


nlohmann::json FinalTrainingOptions::to_json() const {
  return {{"epochs", epochs()},
          {"batch_size", batch_size()},
          {"steps_per_epoch", steps_per_epoch()},
          {"lr", lr()},
          {"min_lr", min_lr()},
          {"warmup_epochs", warmup_epochs()},
          {"momentum", momentum()},
          {"nesterov", nesterov()},
          {"weight_decay", weight_decay()},
          {"label_smoothing", label_smoothing()},
          {"auxiliary_weight", auxiliary_weight()},
          {"drop_path", drop_path()},
          {"augment", augment()},
          {"augmentation", augmentation().to_json()},
          {"grad_clip", grad_clip()},
          {"seed", seed()}};
}

nlohmann::json FinalTrainingResult::to_json() const {
  auto h = nlohmann::json::array();
  for (const auto& r : history) h.push_back(record_json(r));
  // Not resumed_from: how a run was interrupted is no part of its result (a resumed run's
  // summary equals an uninterrupted one's).
  return {{"epochs", history.size()}, {"stopped", stopped},
          {"test_loss", test_loss},   {"test_accuracy", test_accuracy}, {"seconds", seconds},
          {"history", h}};
}

std::string checkpoint_path(const std::string& dir) { return (fs::path(dir) / "checkpoint.pt").string(); }

namespace {
constexpr const char* kWeightsKind = "weights-file";
constexpr const char* kCheckpointKind = "training-checkpoint";
}  // namespace

void save_weights(nn::Network& net, const std::string& path) {
  hwnas::detail::TensorArchive archive;
  archive.put_module("", net);
  hwnas::detail::save_archive(archive, kWeightsKind, path);
}

void load_weights(nn::Network& net, const std::string& path) {
  hwnas::detail::load_archive(kWeightsKind, path, "give the weights.pt that hwnas train wrote, or train again")
      .load_module("", net, path);
}

namespace detail {

void save_training_checkpoint(const std::string& path, nn::Network& net, const torch::optim::Optimizer& optimizer,
                              nlohmann::json state) {
  hwnas::detail::TensorArchive archive;
  archive.put_module("model/", net);
  save_optimizer(optimizer, archive, "optimizer/");
  save_timings(path, state);  // beside the checkpoint: its bytes depend on the seed alone
  archive.put_string("state", state.dump());
  hwnas::detail::save_archive(archive, kCheckpointKind, path);
}

std::vector<EpochRecord> load_training_checkpoint(const std::string& path, nn::Network& net,
                                                  torch::optim::Optimizer& optimizer,
                                                  const FinalTrainingOptions& o) {
  const std::string fix = "delete it to start over, or choose another output folder";
  const auto archive = hwnas::detail::load_archive(kCheckpointKind, path, fix);
  const auto bad = [&](const std::string& why) {
    return DataError(fmt::format("The checkpoint '{}' {}; {}", path, why, fix));
  };
  const auto* state_text = archive.string("state");
  if (!state_text) throw bad("has no training state");
  auto state = parse_json(*state_text, "the training state of '" + path + "'");
  load_timings(path, state);
  const auto settings = o.to_json();
  std::vector<EpochRecord> history;
  try {
    const auto fingerprint = state.at("fingerprint").get<std::string>();
    HWNAS_CHECK_T(DataError, fingerprint == o.fingerprint(), "The checkpoint '", path, "' was written for ",
                  fingerprint, ", not for ", o.fingerprint(), "; choose another output folder");
    HWNAS_CHECK_T(DataError, state.at("settings") == settings, "The checkpoint '", path,
                  "' was written with another recipe:", json_differences(state.at("settings"), settings),
                  "; resume with the same settings or choose another output folder");
    for (const auto& r : state.at("history")) {
      history.push_back(record_from(r));
      if (history.back().epoch != static_cast<int64_t>(history.size()) || history.back().epoch > o.epochs())
        throw bad(fmt::format("records epoch {} as its epoch number {} of {}", history.back().epoch,
                              history.size(), o.epochs()));
    }
  } catch (const nlohmann::json::exception& e) {
    throw bad(e.what());
  }
  archive.load_module("model/", net, path);
  load_optimizer(optimizer, archive, "optimizer/", path);
  return history;
}

}  // namespace detail

FinalTrainingResult train_final(nn::Network& net, const data::Dataset& train, const data::Dataset* test,
                                const FinalTrainingOptions& o) {
  o.validate();
  HWNAS_CHECK_T(ConfigError, train.size() > 0, "Cannot train on the empty dataset '", train.name, "'");
  auto* drop_path = dynamic_cast<nn::DropPath*>(&net);
  HWNAS_CHECK_T(ConfigError, o.drop_path() == 0 || drop_path, "drop_path ", o.drop_path(),
                " was asked for, but this network has no cells to drop paths in (DARTS networks do); set it to 0");
  const int64_t full = (train.size() + o.batch_size() - 1) / o.batch_size();
  const int64_t steps = o.steps_per_epoch() > 0 ? std::min(o.steps_per_epoch(), full) : full;
  const int64_t warmup_epochs = o.warmup_epochs() >= 0 ? o.warmup_epochs() : std::min<int64_t>(1, o.epochs() - 1);
  const int64_t total = steps * o.epochs(), warmup = steps * warmup_epochs;

  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(o.lr())
                                              .momentum(o.momentum())
                                              .nesterov(o.nesterov() && o.momentum() > 0)
                                              .weight_decay(o.weight_decay()));
  FinalTrainingResult result;
  const std::string ckpt = o.checkpoint_dir().empty() ? std::string() : checkpoint_path(o.checkpoint_dir());
  const auto settings = o.to_json();
  if (!ckpt.empty() && fs::exists(ckpt)) {
    HWNAS_CHECK_T(ConfigError, o.resume(), "'", o.checkpoint_dir(), "' already holds a training checkpoint; pass "
                  "resume (--resume) to continue it, or choose another output folder (nothing was overwritten)");
    result.history = detail::load_training_checkpoint(ckpt, net, sgd, o);
    result.resumed_from = static_cast<int64_t>(result.history.size());
  }

  auto augmentation = o.augmentation();
  if (augmentation.fill().empty()) augmentation.fill(raw_zero(train));
  const int64_t workers = o.workers() >= 0 ? o.workers()
                          : train.is_streamed() || (o.augment() && augmentation.any())
                              ? static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()))
                              : 0;
  const auto start = Clock::now();
  int64_t steps_done_here = 0;
  for (int64_t epoch = result.resumed_from + 1; epoch <= o.epochs() && !result.stopped; ++epoch) {
    const auto epoch_start = Clock::now();
    const uint64_t seed = epoch_seed(o.seed(), epoch);
    torch::manual_seed(seed);
    if (drop_path)
      drop_path->set_drop_path(o.drop_path() * static_cast<double>(epoch - 1) / static_cast<double>(o.epochs()));
    net.train();
    double loss_sum = 0, correct = 0, seen = 0, lr = o.lr();
    int64_t step = 0;
    data::Loader loader(train, data::LoaderOptions()
                                   .batch_size(o.batch_size())
                                   .shuffle(true)
                                   .seed(seed)
                                   .augmentation(o.augment() ? augmentation : data::Augmentation())
                                   .workers(workers)
                                   .max_batches(steps));
    for (data::Batch batch; loader.next(batch);) {
      lr = lr_at(o, (epoch - 1) * steps + step, warmup, total);
      for (auto& group : sgd.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      const auto& images = batch.images;
      sgd.zero_grad();
      const auto logits = net.forward(images);
      const auto ce = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing());
      auto loss = torch::nn::functional::cross_entropy(logits, batch.labels, ce);
      if (const auto aux = net.auxiliary_logits(); aux.defined() && o.auxiliary_weight() > 0)
        loss = loss + o.auxiliary_weight() * torch::nn::functional::cross_entropy(aux, batch.labels, ce);
      const double l = loss.item<double>();
      HWNAS_CHECK(std::isfinite(l), "Training diverged: the loss is ", l, " at epoch ", epoch, " step ", step + 1,
                  "; lower the learning rate (now ", o.lr(), ")");
      loss.backward();
      if (o.grad_clip() > 0) torch::nn::utils::clip_grad_norm_(net.parameters(), o.grad_clip());
      sgd.step();
      ++step;
      ++steps_done_here;
      const auto n = static_cast<double>(batch.labels.size(0));
      loss_sum += l * n;
      correct += logits.argmax(1).eq(batch.labels).sum().item<double>();
      seen += n;
      if (o.on_progress()) {
        FinalProgress p{epoch, o.epochs(), step, steps, loss_sum / seen, correct / seen, lr};
        p.elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const int64_t left = total - ((epoch - 1) * steps + step);
        p.eta = p.elapsed / static_cast<double>(steps_done_here) * static_cast<double>(left);
        o.on_progress()(p);
      }
      if (o.should_stop() && o.should_stop()()) {
        result.stopped = true;
        break;
      }
    }
    if (result.stopped) break;
    EpochRecord r{epoch, lr, loss_sum / seen, correct / seen};
    if (test) {
      const auto e = evaluate(net, *test, o.eval_batch_size(), test->is_streamed() ? std::max<int64_t>(1, workers) : 0);
      r.test_loss = e.loss;
      r.test_accuracy = e.accuracy;
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    result.history.push_back(r);
    if (!ckpt.empty()) {
      fs::create_directories(o.checkpoint_dir());
      auto history = nlohmann::json::array();
      for (const auto& h : result.history) history.push_back(record_json(h));
      detail::save_training_checkpoint(ckpt, net, sgd,
                                       {{"fingerprint", o.fingerprint()}, {"settings", settings}, {"history", history}});
    }
    if (o.on_epoch()) o.on_epoch()(r);
  }
  if (drop_path) drop_path->set_drop_path(0);
  net.eval();
  if (!result.history.empty()) {
    result.test_loss = result.history.back().test_loss;
    result.test_accuracy = result.history.back().test_accuracy;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace hwnas::train

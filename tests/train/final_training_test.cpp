#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/nn/drop_path.h"
#include "hwnas/nn/network.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/train/final_training.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::train::FinalTrainingOptions;
using hwnas::train::train_final;

namespace {
struct Tiny {
  hwnas::data::Dataset all = hwnas::data::make_synthetic(
      hwnas::data::SyntheticOptions().samples(256).size(8).classes(4).seed(1));
  hwnas::data::Dataset train = all.slice(0, 192), test = all.slice(192, 256);
  std::unique_ptr<hwnas::SearchSpace> space = hwnas::make_space(
      "nb201", {{"channels", 4}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 8}, {"num_classes", 4}});
  hwnas::Arch arch = space->parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|");
  std::shared_ptr<hwnas::nn::Network> net() const {
    torch::manual_seed(0);
    return space->build(arch);
  }
};

std::vector<torch::Tensor> state(hwnas::nn::Network& net) {
  std::vector<torch::Tensor> s;
  for (const auto& p : net.named_parameters()) s.push_back(p.value().clone());
  for (const auto& b : net.named_buffers()) s.push_back(b.value().clone());
  return s;
}
bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}
}  // namespace

TEST_CASE("Final training learns, reports every epoch and is deterministic", "[train][final]") {
  Tiny t;
  const auto o = FinalTrainingOptions().epochs(4).batch_size(32).lr(0.1).seed(3);
  auto a = t.net();
  std::vector<int64_t> epochs;
  int64_t steps = 0;
  double last_eta = -1;
  const auto ra = train_final(*a, t.train, &t.test, FinalTrainingOptions(o)
                                                        .on_epoch([&](const auto& r) { epochs.push_back(r.epoch); })
                                                        .on_progress([&](const auto& p) {
                                                          ++steps;
                                                          last_eta = p.eta;
                                                          REQUIRE(p.steps == 6);
                                                        }));
  CHECK(epochs == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(steps == 24);
  CHECK(last_eta == 0);
  REQUIRE(ra.history.size() == 4);
  CHECK(ra.history.back().train_loss < ra.history.front().train_loss);
  CHECK(ra.test_accuracy == ra.history.back().test_accuracy);
  CHECK(ra.test_accuracy > 0.5);  // 4 classes: chance is 0.25
  // Warm-up over the first epoch, then cosine to 0.
  CHECK(ra.history[0].lr == Approx(0.1));
  CHECK(ra.history[3].lr < 0.01);
  CHECK_FALSE(a->is_training());
  auto b = t.net();
  const auto rb = train_final(*b, t.train, &t.test, o);
  CHECK(same(state(*a), state(*b)));
  for (size_t i = 0; i < ra.history.size(); ++i) {
    CHECK(rb.history[i].train_loss == ra.history[i].train_loss);
    CHECK(rb.history[i].test_accuracy == ra.history[i].test_accuracy);
  }
}

TEST_CASE("A run resumed from its checkpoint ends as the uninterrupted run", "[train][final]") {
  Tiny t;
  const auto dir = hwnas::test::temp_dir("final_resume");
  const auto o = FinalTrainingOptions().epochs(3).batch_size(32).lr(0.1).seed(5).label_smoothing(0.1).fingerprint("tiny");
  auto straight = t.net();
  train_final(*straight, t.train, &t.test, o);

  // Interrupted during epoch 2: the checkpoint holds epoch 1.
  auto first = t.net();
  int64_t calls = 0;
  const auto stopped = train_final(*first, t.train, &t.test, FinalTrainingOptions(o).checkpoint_dir(dir).should_stop([&] {
    return ++calls == 8;
  }));
  CHECK(stopped.stopped);
  CHECK(stopped.history.size() == 1);
  REQUIRE(fs::exists(hwnas::train::checkpoint_path(dir)));

  // Without resume, the checkpoint is not overwritten.
  auto other = t.net();
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, train_final(*other, t.train, &t.test, FinalTrainingOptions(o).checkpoint_dir(dir)),
                          "already holds a training checkpoint", "resume");
  // Another network's or recipe's checkpoint is refused.
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          train_final(*other, t.train, &t.test,
                                      FinalTrainingOptions(o).checkpoint_dir(dir).resume(true).fingerprint("another")),
                          "was written for tiny");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          train_final(*other, t.train, &t.test, FinalTrainingOptions(o).checkpoint_dir(dir).resume(true).lr(0.2)),
                          "recipe");

  auto resumed = t.net();  // fresh weights: everything comes from the checkpoint
  const auto r = train_final(*resumed, t.train, &t.test, FinalTrainingOptions(o).checkpoint_dir(dir).resume(true));
  CHECK(r.resumed_from == 1);
  CHECK(r.history.size() == 3);
  CHECK(same(state(*straight), state(*resumed)));
}

TEST_CASE("Weights files round-trip and refuse another network", "[train][final]") {
  Tiny t;
  const auto dir = hwnas::test::temp_dir("final_weights");
  auto a = t.net();
  train_final(*a, t.train, nullptr, FinalTrainingOptions().epochs(1).batch_size(64));
  hwnas::train::save_weights(*a, dir + "/w.pt");
  auto b = t.space->build(t.arch);
  hwnas::train::load_weights(*b, dir + "/w.pt");
  CHECK(same(state(*a), state(*b)));
  auto wide = hwnas::make_space("nb201", {{"channels", 8}, {"cells_per_stage", 1}, {"input_channels", 1},
                                          {"input_size", 8}, {"num_classes", 4}})->build(t.arch);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::train::load_weights(*wide, dir + "/w.pt"), "shape",
                          "another architecture");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, hwnas::train::load_weights(*b, dir + "/missing.pt"), "No weights file");
}

TEST_CASE("Drop-path and the auxiliary head of DARTS networks in final training", "[train][final]") {
  auto data = hwnas::data::make_synthetic(hwnas::data::SyntheticOptions().samples(64).size(32).channels(3).classes(4).seed(1));
  auto space = hwnas::make_space("darts", {{"channels", 4}, {"layers", 3}, {"input_channels", 3}, {"input_size", 32},
                                           {"num_classes", 4}, {"auxiliary", true}});
  hwnas::Rng rng(3);
  const auto arch = space->sample(rng);
  torch::manual_seed(0);
  auto net = space->build(arch);
  auto* dp = dynamic_cast<hwnas::nn::DropPath*>(net.get());
  REQUIRE(dp);
  // In training mode, drop-path changes the output; in eval mode it does nothing.
  net->train();
  const auto x = data.images.slice(0, 0, 8);
  torch::manual_seed(1);
  const auto plain = net->forward(x);
  dp->set_drop_path(0.5);
  torch::manual_seed(1);
  CHECK_FALSE(torch::allclose(net->forward(x), plain));
  CHECK(net->auxiliary_logits().defined());
  net->eval();
  const auto eval_a = net->forward(x);
  dp->set_drop_path(0);
  CHECK(torch::equal(net->forward(x), eval_a));
  const auto r = train_final(*net, data, nullptr, FinalTrainingOptions().epochs(2).batch_size(32).drop_path(0.2).auxiliary_weight(0.4));
  CHECK(r.history.size() == 2);
  CHECK(std::isfinite(r.history.back().train_loss));

  // A network without cells refuses drop-path.
  Tiny t;
  auto plain_net = t.net();
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, train_final(*plain_net, t.train, nullptr, FinalTrainingOptions().drop_path(0.1)),
                          "drop_path", "set it to 0");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, train_final(*plain_net, t.train, nullptr, FinalTrainingOptions().warmup_epochs(-2)),
                          "warmup_epochs");
}

namespace {
// The tiny data served from a SampleSource: a streamed dataset.
class Served : public hwnas::data::SampleSource {
 public:
  explicit Served(torch::Tensor images) : images_(std::move(images)) {}
  at::Tensor read(int64_t row) const override { return images_[row].clone(); }
  std::vector<int64_t> shape() const override { return {images_.size(1), images_.size(2), images_.size(3)}; }

 private:
  torch::Tensor images_;
};
}  // namespace

TEST_CASE("Final training gives the same weights with any number of loader workers, streamed or in memory",
          "[train][final]") {
  Tiny t;
  const auto options = FinalTrainingOptions().epochs(2).batch_size(32).seed(3).augmentation(
      hwnas::data::Augmentation().pad(1).flip(true).cutout(2));
  auto reference = t.net();
  const auto r0 = train_final(*reference, t.train, &t.test, FinalTrainingOptions(options).workers(0));
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < t.train.size(); ++i) rows.push_back(i);
  const auto streamed = hwnas::data::Dataset::streamed(std::make_shared<Served>(t.train.images), rows, t.train.labels,
                                                       t.train.num_classes, "served");
  for (int64_t workers : {1, 3}) {
    auto net = t.net();
    const auto r = train_final(*net, workers == 1 ? t.train : streamed, &t.test, FinalTrainingOptions(options).workers(workers));
    CHECK(same(state(*net), state(*reference)));
    CHECK(r.test_accuracy == r0.test_accuracy);
  }
  CHECK(options.to_json().at("augmentation").at("cutout") == 2);
}

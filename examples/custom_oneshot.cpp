// A one-shot method written outside the library: single-path weight sharing with
// progressive space shrinking, which no built-in does (the built-in one-shot methods are
// differentiable). Each epoch trains the supernet along uniformly drawn single paths, then
// scores every remaining option of every decision by the mean validation accuracy of
// random paths through it and drops each decision's worst option; the survivors of the
// last epoch are the arch. It registers by name, so an experiment names it like a built-in
// ("strategy": {"name": "shrink"}), and its checkpoint makes a stopped run resume exactly.
//
// The program searches nb201 on synthetic images, once straight and once stopped after
// two epochs and resumed, and exits 1 unless both runs end with the same arch, the same
// epochs.jsonl and the space shrunk to one option per decision.
//
//   ./custom_oneshot [--out DIR]                  # default shrink_search
//   ./custom_oneshot search -c experiment.json    # the full CLI, with "shrink" in it
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hwnas/cli/cli.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/nn/mixed.h"
#include "hwnas/oneshot/method.h"

namespace {

using hwnas::oneshot::MethodContext;

class Shrink : public hwnas::oneshot::OneShotMethod {
 public:
  Shrink(const nlohmann::json& config, const MethodContext& context) : context_(context) {
    hwnas::ConfigReader r(config, "shrink strategy config");
    epochs_ = r.get_int("epochs", 4, 1, 1000);
    batch_size_ = r.get_int("batch_size", 32, 1, 4096);
    paths_ = r.get_int("paths", 8, 1, 1000);  // random paths per option when scoring
    lr_ = r.get_double("lr", 0.1, 1e-6, 10);
    r.finish();
    torch::manual_seed(context.seed);
    net_ = std::dynamic_pointer_cast<hwnas::nn::MixedSupernet>(
        context.space->supernet(hwnas::SupernetOptions().build(hwnas::BuildOptions().seed(context.seed))));
    HWNAS_CHECK_T(hwnas::ConfigError, net_ && net_->decisions_are_choices(), "shrink needs a space whose mixed "
                  "supernet decides its arch choices (nb201, mobilenet), not ", context.space->name());
    for (const auto& options : net_->allowed()) {
      alive_.emplace_back();
      for (size_t k = 0; k < options.size(); ++k)
        if (options[k]) alive_.back().push_back(static_cast<int>(k));
    }
    // Plain SGD: the weights are the whole training state.
    sgd_ = std::make_unique<torch::optim::SGD>(net_->parameters(), torch::optim::SGDOptions(lr_));
  }

  std::string name() const override { return "shrink"; }
  int64_t epochs() const override { return epochs_; }
  int64_t epoch() const override { return static_cast<int64_t>(reports_.size()); }
  std::vector<nlohmann::json> reports() const override { return reports_; }

  void run(const hwnas::data::Dataset& train, const std::function<void()>& on_epoch,
           const std::atomic<bool>* stop) override {
    auto [weights, valid] = hwnas::data::split(train, 0.25, context_.seed);
    while (epoch() < epochs_) {
      hwnas::Rng rng(context_.seed * 1000003 + static_cast<uint64_t>(epoch()));  // per epoch: exact resume
      double loss_sum = 0;
      const auto batches = hwnas::data::batches(weights, batch_size_, &rng);
      net_->train();
      for (const auto& b : batches) {
        sgd_->zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net_->forward_mixed(b.images, path(draw(rng))), b.labels);
        loss.backward();
        sgd_->step();
        loss_sum += loss.item<double>();
      }
      // Score and drop: per decision, the option whose random paths do worst.
      const auto vb = hwnas::data::batches(valid, 256);
      torch::NoGradGuard no_grad;
      for (size_t c = 0; c < alive_.size(); ++c) {
        if (alive_[c].size() == 1) continue;
        std::vector<double> score;
        for (int k : alive_[c]) {
          double correct = 0, n = 0;
          for (int64_t p = 0; p < paths_; ++p) {
            auto genes = draw(rng);
            genes[c] = k;
            const auto& b = vb[static_cast<size_t>(p) % vb.size()];
            correct += net_->forward_mixed(b.images, path(genes)).argmax(1).eq(b.labels).sum().item<double>();
            n += static_cast<double>(b.labels.size(0));
          }
          score.push_back(correct / n);
        }
        alive_[c].erase(alive_[c].begin() + (std::min_element(score.begin(), score.end()) - score.begin()));
      }
      size_t left = 0;
      for (const auto& a : alive_) left += a.size();
      reports_.push_back({{"epoch", epoch() + 1}, {"train_loss", loss_sum / static_cast<double>(batches.size())},
                          {"options_left", left}, {"alive", alive_}});
      if (!context_.checkpoint.empty()) save(context_.checkpoint);
      if (on_epoch) on_epoch();
      if (stop && stop->load()) return;
    }
  }

  // The best-scored survivor of each decision (its first, after the last epoch's drops).
  hwnas::Arch select(const hwnas::data::Dataset&) override {
    std::vector<int> genes;
    for (const auto& a : alive_) genes.push_back(a.front());
    return context_.space->make(genes);
  }

  void load(const std::string& path) override {
    try {
      torch::serialize::InputArchive archive, net;
      archive.load_from(path);
      c10::IValue meta;
      archive.read("meta", meta);
      const auto j = nlohmann::json::parse(meta.toStringRef());
      alive_ = j.at("alive").get<std::vector<std::vector<int>>>();
      reports_ = j.at("reports").get<std::vector<nlohmann::json>>();
      archive.read("net", net);
      net_->load(net);
    } catch (const std::exception& e) {
      throw hwnas::DataError("The shrink checkpoint '" + path + "' cannot be read (" + e.what() +
                             "); start again with overwrite (--overwrite)");
    }
  }

 private:
  std::vector<int> draw(hwnas::Rng& rng) const {
    std::vector<int> genes;
    for (const auto& a : alive_) genes.push_back(a[static_cast<size_t>(rng.uniform_int(static_cast<int64_t>(a.size())))]);
    return genes;
  }
  static std::vector<hwnas::nn::MixedChoice> path(const std::vector<int>& genes) {
    std::vector<hwnas::nn::MixedChoice> p(genes.size());
    for (size_t c = 0; c < genes.size(); ++c) p[c].active = {genes[c]};
    return p;
  }
  void save(const std::string& path) const {
    torch::serialize::OutputArchive archive, net;
    net_->save(net);
    archive.write("net", net);
    archive.write("meta", c10::IValue(nlohmann::json{{"alive", alive_}, {"reports", reports_}}.dump()));
    archive.save_to(path + ".tmp");
    std::filesystem::rename(path + ".tmp", path);  // whole or not at all
  }

  MethodContext context_;
  int64_t epochs_, batch_size_, paths_;
  double lr_;
  std::shared_ptr<hwnas::nn::MixedSupernet> net_;
  std::unique_ptr<torch::optim::SGD> sgd_;
  std::vector<std::vector<int>> alive_;  // per decision, the options still in the space
  std::vector<nlohmann::json> reports_;
};

hwnas::experiment::ExperimentConfig experiment(const std::string& out) {
  hwnas::experiment::ExperimentConfig config;
  config.space("nb201")
      .space_config({{"channels", 8}, {"cells_per_stage", 1}})
      .strategy("shrink")
      .strategy_config({{"epochs", 4}, {"paths", 4}})
      .evaluator({{"name", "none"}, {"data", {{"name", "synthetic"}, {"train_size", 256}, {"valid_size", 64}}}})
      .objectives({{"params", hwnas::strategy::Direction::kMinimize}})
      .seed(5)
      .output(out);
  return config;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) try {
  hwnas::oneshot::method_registry().add(
      "shrink", "Single-path weight sharing with progressive space shrinking (drops each decision's worst option per epoch)",
      [](const nlohmann::json& config, const MethodContext& context) { return std::make_unique<Shrink>(config, context); });
  if (argc > 1 && std::string(argv[1]) != "--out") return hwnas::cli::run_main(argc, argv);  // the full CLI, with "shrink"

  const std::string out = argc > 2 ? argv[2] : "shrink_search";
  using hwnas::experiment::Experiment;
  using hwnas::experiment::RunOptions;
  const auto straight = Experiment(experiment(out + "/straight")).run(RunOptions().overwrite(true));
  std::atomic<bool> stop{false};
  int64_t epochs_seen = 0;
  const auto first = Experiment(experiment(out + "/resumed"))
                         .run(RunOptions().overwrite(true).stop(&stop).on_batch([&](const hwnas::experiment::Progress&) {
                           if (++epochs_seen == 2) stop = true;
                         }));
  const auto resumed = Experiment(experiment(out + "/resumed")).run(RunOptions().resume(true));
  const auto epochs = slurp(out + "/straight/epochs.jsonl");
  const auto last = nlohmann::json::parse(epochs.substr(epochs.rfind('\n', epochs.size() - 2) + 1));
  const bool same = straight.best && resumed.best && straight.best->arch == resumed.best->arch &&
                    epochs == slurp(out + "/resumed/epochs.jsonl");
  std::cout << "shrink: " << straight.best->arch.str() << " (" << straight.best->metrics.at("params")
            << " params); " << last.at("options_left") << " options left after 4 epochs; stopped after "
            << epochs_seen << " epochs (" << (first.stopped ? "stopped" : "NOT stopped") << "), resumed run "
            << (same ? "identical" : "DIFFERENT") << "\n";
  return first.stopped && same && last.at("options_left") == straight.best->arch.genes().size() ? 0 : 1;
} catch (const hwnas::Error& e) {
  std::cerr << "custom_oneshot: " << e.what() << "\n";
  return 1;
}

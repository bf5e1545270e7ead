// An evaluator written outside the library: "linear_probe" scores an arch without training
// it. The untrained network's outputs on training images are the features of a ridge
// (least-squares) classifier; its accuracy on the validation images is the metric
// probe_acc. Registered by name, it is used as a built-in evaluator is: named in an
// experiment config (the search below) and by `hwnas evaluate --evaluator linear_probe`
// (this binary runs every hwnas command with it registered).
//
//   ./custom_evaluator tour [OUTPUT_DIR]    a search maximising probe_acc under a MACs limit
//   ./custom_evaluator evaluate --evaluator linear_probe --space nb201 -n 3 --out probe.csv
#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/config.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/estimate/factory.h"
#include "hwnas/experiment/runner.h"
#include "hwnas/nn/network.h"

namespace {

class LinearProbe : public hwnas::estimate::Evaluator {
 public:
  LinearProbe(std::shared_ptr<const hwnas::SearchSpace> space, hwnas::data::Dataset train, hwnas::data::Dataset valid,
              double ridge, uint64_t seed)
      : space_(std::move(space)), train_(std::move(train)), valid_(std::move(valid)), ridge_(ridge), seed_(seed) {}
  std::string name() const override { return "linear_probe"; }
  std::vector<std::string> metrics() const override { return {"probe_acc"}; }

 protected:
  std::vector<hwnas::estimate::Metrics> do_evaluate(const std::vector<hwnas::Arch>& archs) override {
    std::vector<hwnas::estimate::Metrics> out;
    for (const auto& arch : archs) out.push_back({{"probe_acc", probe(arch)}});
    return out;
  }

 private:
  double probe(const hwnas::Arch& arch) const {
    torch::NoGradGuard no_grad;
    auto net = space_->build(arch, hwnas::BuildOptions().seed(seed_));
    net->eval();
    auto features = [&](const torch::Tensor& x) {
      auto f = net->forward(x).to(torch::kFloat64);
      return torch::cat({f, torch::ones({f.size(0), 1}, f.options())}, 1);  // a bias column
    };
    auto x = features(train_.images);
    auto xv = features(valid_.images);
    const auto mean = x.mean(0, true);
    const auto scale = x.std(0, true, true).clamp_min(1e-8);
    x = (x - mean) / scale;
    xv = (xv - mean) / scale;
    x.select(1, x.size(1) - 1).fill_(1);
    xv.select(1, xv.size(1) - 1).fill_(1);
    const auto y = torch::one_hot(train_.labels, train_.num_classes).to(torch::kFloat64);
    const auto a = x.t().mm(x) + ridge_ * torch::eye(x.size(1), x.options());
    const auto w = torch::linalg_solve(a, x.t().mm(y));
    return xv.mm(w).argmax(1).eq(valid_.labels).to(torch::kFloat64).mean().item<double>();
  }

  std::shared_ptr<const hwnas::SearchSpace> space_;
  hwnas::data::Dataset train_, valid_;
  double ridge_;
  uint64_t seed_;
};

void register_linear_probe() {
  hwnas::estimate::register_evaluator(
      "linear_probe", "probe_acc: a ridge classifier on the untrained network's outputs (\"options\": ridge)",
      {/*needs_data=*/true, [](const nlohmann::json& spec, const hwnas::estimate::EvaluatorContext& c) {
         hwnas::ConfigReader r(spec, "evaluator");
         hwnas::ConfigReader o(r.get_json("options", nlohmann::json::object()), "linear_probe evaluator \"options\"");
         r.finish();
         const double ridge = o.get_double("ridge", 1.0, 0.0, 1e6);
         o.finish();
         return std::make_shared<LinearProbe>(c.space, c.train, c.valid, ridge, c.seed);
       }});
}

}  // namespace

int main(int argc, char** argv) {
  register_linear_probe();
  if (argc < 2 || std::string(argv[1]) != "tour") return hwnas::cli::run_main(argc, argv);

  const std::string out = argc > 2 ? argv[2] : "probe_search";
  const nlohmann::json space_config = {{"channels", 8}, {"cells_per_stage", 1}};
  const double max_macs = 3e6;
  hwnas::experiment::ExperimentConfig config;
  config.space("nb201")
      .space_config(space_config)
      .evaluator({{"name", "linear_probe"},
                  {"options", {{"ridge", 1.0}}},
                  {"data", {{"name", "fashion-mnist"}, {"train_size", 1000}, {"valid_size", 500}}}})
      .strategy("random")
      .objectives({{"probe_acc", hwnas::strategy::Direction::kMaximize}})
      .constraints({"macs <= " + std::to_string(max_macs)})
      .budget(hwnas::experiment::Budget().evaluations(16))
      .seed(2)
      .output(out);
  hwnas::experiment::Experiment experiment(config);
  const auto result = experiment.run(hwnas::experiment::RunOptions().overwrite(true));
  const auto& best = *result.best;

  // The search's best, measured again outside it, and the probe of the largest arch.
  const auto again = experiment.measure({best.arch})[0].at("probe_acc");
  std::cout << "search: best " << best.arch.str() << " probe_acc " << best.metrics.at("probe_acc") << " at "
            << best.metrics.at("macs") << " MACs (limit " << max_macs << "; measured again: " << again
            << "; chance: 0.1)\n";
  return best.feasible() && again == best.metrics.at("probe_acc") && again > 0.2 ? 0 : 1;
}

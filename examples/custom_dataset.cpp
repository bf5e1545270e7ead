// A dataset registered from outside the library: "shapes", 16x16 grey images of a disc, a
// square or a cross at a random place and size (3 classes), drawn from the seed. Once
// registered it is a dataset like the built-ins: `--data shapes` for every command that
// reads data, "data": {"name": "shapes"} in an experiment config, and the space's input
// and class count follow from it.
//
//   ./custom_dataset tour [OUTPUT_DIR]       a short search on it
//   ./custom_dataset train --data shapes --train-size 2000 --test-size 500 --arch ... --out run
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/data/registry.h"
#include "hwnas/experiment/runner.h"

namespace {

hwnas::data::Dataset draw_shapes(int64_t n, int64_t size, uint64_t seed) {
  hwnas::Rng rng(seed);
  auto images = torch::zeros({n, 1, size, size});
  auto labels = torch::zeros({n}, torch::kLong);
  auto img = images.accessor<float, 4>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = rng.uniform_int(3);
    const double r = 2 + rng.uniform() * (static_cast<double>(size) / 4);
    const double cx = r + rng.uniform() * (static_cast<double>(size) - 2 * r);
    const double cy = r + rng.uniform() * (static_cast<double>(size) - 2 * r);
    for (int64_t y = 0; y < size; ++y)
      for (int64_t x = 0; x < size; ++x) {
        const double dx = static_cast<double>(x) - cx, dy = static_cast<double>(y) - cy;
        const bool on = k == 0   ? dx * dx + dy * dy <= r * r
                        : k == 1 ? std::abs(dx) <= r && std::abs(dy) <= r
                                 : (std::abs(dx) <= r / 3 && std::abs(dy) <= r) || (std::abs(dy) <= r / 3 && std::abs(dx) <= r);
        img[i][0][y][x] = on ? 1.0f : static_cast<float>(0.1 * rng.uniform());
      }
    labels[i] = k;
  }
  return {images, labels, 3, "shapes"};
}

void register_shapes() {
  hwnas::data::register_dataset(
      "shapes", "Discs, squares and crosses, 1xSxS, 3 classes, drawn from the seed (\"size\": S, default 16)",
      {[](const nlohmann::json& config, const hwnas::data::DataRequest& q) {
        hwnas::ConfigReader r(config, "shapes data config");
        const auto size = r.get_int("size", 16, 8, 256);
        r.finish();
        HWNAS_CHECK_T(hwnas::ConfigError, q.limit() > 0, "shapes are drawn, not read: give the number of samples");
        return draw_shapes(q.limit(), size, q.seed() * 2 + (q.train() ? 0 : 1));  // the test part is drawn apart
      }});
}

}  // namespace

int main(int argc, char** argv) {
  register_shapes();
  if (argc < 2 || std::string(argv[1]) != "tour") return hwnas::cli::run_main(argc, argv);

  const std::string out = argc > 2 ? argv[2] : "shapes_search";
  hwnas::experiment::ExperimentConfig config;
  config.space("nb201")
      .space_config({{"channels", 8}, {"cells_per_stage", 1}})
      .evaluator({{"name", "short_training"},
                  {"options", {{"steps", 60}, {"batch_size", 32}, {"lr", 0.05}}},
                  {"data", {{"name", "shapes"}, {"train_size", 1000}, {"valid_size", 300}}}})
      .strategy("random")
      .objectives({{"val_accuracy", hwnas::strategy::Direction::kMaximize}})
      .budget(hwnas::experiment::Budget().evaluations(4))
      .seed(0)
      .output(out);
  hwnas::experiment::Experiment experiment(config);
  const auto input = experiment.space()->config();
  const auto result = experiment.run(hwnas::experiment::RunOptions().overwrite(true));
  std::cout << "search on shapes: input " << input.at("input_channels") << "x" << input.at("input_size") << ", "
            << input.at("num_classes") << " classes; best " << result.best->arch.str() << " val_accuracy "
            << result.best->metrics.at("val_accuracy") << " (chance 0.33)\n";
  return input.at("input_size") == 16 && input.at("num_classes") == 3 && result.best->metrics.at("val_accuracy") > 0.5
             ? 0
             : 1;
}

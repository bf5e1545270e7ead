// A custom predictor in a few dozen lines: k-nearest neighbours on the space's encoding.
// It registers itself, so everything that takes a predictor name uses it: the registry,
// save/load, ensembles, PredictorEvaluator, and the `hwnas predictor` commands of a CLI
// embedded in this program:
//   ./custom_predictor                      # fit, evaluate, save, load, predict
//   ./custom_predictor predictor eval -p knn --data rows.csv --target acc
#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "hwnas/cli/cli.h"
#include "hwnas/core/config.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/stats.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/search_spaces/registry.h"

class KnnPredictor : public hwnas::predictors::Predictor {
 public:
  explicit KnnPredictor(const nlohmann::json& config) {
    hwnas::ConfigReader r(config, "knn predictor config");
    k_ = r.get_int("k", 5, 1, 1000);
    r.finish();  // unknown keys are errors
  }
  std::string name() const override { return "knn"; }
  nlohmann::json config() const override { return {{"k", k_}}; }

 protected:
  void do_fit(const hwnas::predictors::Features& x, const std::vector<double>& y) override {
    x_ = x;  // the base class checked rows, finite targets and the encoding
    y_ = y;
  }
  hwnas::predictors::Prediction do_predict(const hwnas::predictors::Features& q) const override {
    hwnas::predictors::Prediction p;
    for (int64_t i = 0; i < q.rows; ++i) {
      std::vector<std::pair<double, double>> by_distance;  // (squared distance, target)
      for (int64_t j = 0; j < x_.rows; ++j) {
        double d = 0;
        for (int64_t c = 0; c < q.cols; ++c) d += (q.row(i)[c] - x_.row(j)[c]) * (q.row(i)[c] - x_.row(j)[c]);
        by_distance.emplace_back(d, y_[static_cast<size_t>(j)]);
      }
      const size_t k = std::min<size_t>(static_cast<size_t>(k_), by_distance.size());
      std::partial_sort(by_distance.begin(), by_distance.begin() + static_cast<long>(k), by_distance.end());
      double sum = 0;
      for (size_t j = 0; j < k; ++j) sum += by_distance[j].second;
      p.mean.push_back(sum / static_cast<double>(k));
    }
    return p;
  }
  // What save() stores and load_predictor() gives back.
  nlohmann::json state() const override { return {{"x", x_.data}, {"rows", x_.rows}, {"y", y_}}; }
  void load_state(const nlohmann::json& s) override {
    x_ = hwnas::predictors::Features(s.at("rows").get<int64_t>(), encoding().size);
    x_.data = s.at("x").get<std::vector<float>>();
    y_ = s.at("y").get<std::vector<double>>();
    HWNAS_CHECK_T(hwnas::DataError, static_cast<int64_t>(x_.data.size()) == x_.rows * x_.cols &&
                                        static_cast<int64_t>(y_.size()) == x_.rows, "knn state: sizes disagree");
  }

 private:
  int64_t k_ = 5;
  hwnas::predictors::Features x_;
  std::vector<double> y_;
};

int main(int argc, char** argv) {
  hwnas::predictors::predictor_registry().add(
      "knn", "k nearest neighbours on the encoding (examples/custom_predictor.cpp)",
      [](const nlohmann::json& c) { return std::make_unique<KnnPredictor>(c); });
  if (argc > 1) return hwnas::cli::run_main(argc, argv);  // the full CLI, with "knn" in it

  // A toy target on NAS-Bench-201: how many edges carry a 3x3 convolution.
  auto space = hwnas::make_space("nb201");
  hwnas::Rng rng(0);
  std::vector<hwnas::Arch> train, test;
  std::vector<double> y_train, y_test;
  for (int i = 0; i < 300; ++i) {
    auto a = space->sample(rng);
    const double y = static_cast<double>(std::count(a.genes().begin(), a.genes().end(), 3));
    (i < 200 ? train : test).push_back(a);
    (i < 200 ? y_train : y_test).push_back(y);
  }
  auto knn = hwnas::predictors::make_predictor("knn", {{"k", 3}});
  knn->fit(*space, train, y_train);
  knn->save("knn_predictor.json");
  auto loaded = hwnas::predictors::load_predictor("knn_predictor.json");
  const auto pred = loaded->predict(*space, test).mean;
  std::cout << "knn (k=3) on 100 held-out NAS-Bench-201 archs: Kendall tau "
            << hwnas::stats::kendall_tau(pred, y_test) << " (saved to and loaded from knn_predictor.json)\n";
  return 0;
}

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "hwnas/core/io.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"
#include "hwnas/core/stats.h"
#include "hwnas/predictors/predictor.h"
#include "hwnas/predictors/ensemble/ensemble.h"
#include "hwnas/predictors/gp/gp.h"
#include "hwnas/predictors/mlp/mlp.h"
#include "hwnas/predictors/ridge/ridge.h"
#include "hwnas/predictors/xgboost/xgboost.h"
#include "hwnas/search_spaces/registry.h"
#include "test_util.h"

using hwnas::predictors::load_predictor;
using hwnas::predictors::make_predictor;

namespace {

// A smooth synthetic target on NAS-Bench-201 archs: a per-op score summed over the
// edges plus one interaction, so that every predictor has something to learn.
struct Data {
  std::unique_ptr<hwnas::SearchSpace> space = hwnas::make_space("nb201");
  std::vector<hwnas::Arch> train, test;
  std::vector<double> y_train, y_test;
};

double target(const hwnas::Arch& a) {
  static const double op_score[5] = {0.0, 0.3, 1.0, 0.6, 0.2};
  double y = 0;
  for (size_t e = 0; e < a.genes().size(); ++e) y += op_score[a.genes()[e]] * (1 + 0.2 * static_cast<double>(e));
  if (a.genes()[0] == 2 && a.genes()[5] == 2) y += 0.5;
  return y;
}

Data make_data(int n_train, int n_test) {
  Data d;
  hwnas::Rng rng(7);
  for (int i = 0; i < n_train + n_test; ++i) {
    auto a = d.space->sample(rng);
    (i < n_train ? d.train : d.test).push_back(a);
    (i < n_train ? d.y_train : d.y_test).push_back(target(a));
  }
  return d;
}

// Fast settings of each built-in predictor.
const std::vector<std::pair<std::string, nlohmann::json>> kPredictors = {
    {"ridge", {{"alpha", 0.1}}},
    {"gp", {{"iterations", 60}}},
    {"mlp", {{"hidden", {32, 32}}, {"epochs", 150}, {"lr", 3e-3}, {"patience", 40}}},
    {"xgboost", {{"rounds", 100}, {"max_depth", 3}}},
    {"ensemble", {{"predictor", "mlp"}, {"size", 3}, {"config", {{"hidden", {16}}, {"epochs", 80}, {"lr", 5e-3}}}}},
    {"gcn", {{"hidden", 32}, {"linear_hidden", 32}, {"epochs", 60}, {"batch_size", 16}, {"lr", 3e-3}}},
    {"residual", {{"config", {{"rounds", 100}, {"max_depth", 3}}}}},
};

}  // namespace

TEST_CASE("Every built-in predictor learns a synthetic target and survives save/load", "[predictors]") {
  auto d = make_data(150, 100);
  for (const auto& [name, config] : kPredictors) {
    DYNAMIC_SECTION(name) {
      auto p = make_predictor(name, config);
      REQUIRE_FALSE(p->fitted());
      p->set_target("score");
      p->fit(*d.space, d.train, d.y_train);
      const auto pred = p->predict(*d.space, d.test);
      REQUIRE(pred.mean.size() == d.test.size());
      REQUIRE(pred.has_std() == p->has_uncertainty());
      const double tau = hwnas::stats::kendall_tau(pred.mean, d.y_test);
      INFO(name << " Kendall tau " << tau);
      CHECK(tau > (name == "xgboost" || name == "residual" ? 0.7 : 0.8));  // trees are coarser

      const auto path = hwnas::test::temp_dir("predictors") + "/" + name + ".json";
      p->save(path);
      auto back = load_predictor(path);
      REQUIRE(back->name() == name);
      REQUIRE(back->target() == "score");
      REQUIRE(back->config() == p->config());
      const auto again = back->predict(*d.space, d.test);
      for (size_t i = 0; i < d.test.size(); ++i) {
        REQUIRE(again.mean[i] == Approx(pred.mean[i]).margin(1e-6));
        if (pred.has_std()) REQUIRE(again.std[i] == Approx(pred.std[i]).margin(1e-6));
      }
    }
  }
}

TEST_CASE("MLP with a pairwise ranking loss ranks the synthetic target, and so does mse+pairwise", "[predictors][mlp]") {
  auto d = make_data(150, 100);
  for (const char* loss : {"pairwise", "mse+pairwise"}) {
    auto p = make_predictor("mlp", {{"hidden", {32, 32}}, {"epochs", 150}, {"lr", 3e-3}, {"patience", 40}, {"loss", loss}});
    p->fit(*d.space, d.train, d.y_train);
    const double tau = hwnas::stats::kendall_tau(p->predict(*d.space, d.test).mean, d.y_test);
    INFO(loss << " Kendall tau " << tau);
    CHECK(tau > 0.8);
    REQUIRE(p->config()["loss"] == loss);
  }
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, make_predictor("mlp", {{"loss", "hinge"}}), "loss", "hinge", "pairwise");
}

TEST_CASE("Predictors are deterministic given their seed", "[predictors]") {
  auto d = make_data(60, 20);
  for (const auto& name : {"mlp", "xgboost", "ensemble", "gcn", "residual"}) {
    auto config = std::find_if(kPredictors.begin(), kPredictors.end(), [&](auto& p) { return p.first == name; })->second;
    auto a = make_predictor(name, config), b = make_predictor(name, config);
    a->fit(*d.space, d.train, d.y_train);
    b->fit(*d.space, d.train, d.y_train);
    REQUIRE(a->predict(*d.space, d.test).mean == b->predict(*d.space, d.test).mean);
  }
}

TEST_CASE("Gaussian process: marginal likelihood rises when fitted, uncertainty grows away from data", "[predictors][gp]") {
  auto d = make_data(40, 0);
  hwnas::predictors::GpPredictor fixed(hwnas::predictors::GpOptions().iterations(0));
  hwnas::predictors::GpPredictor fitted(hwnas::predictors::GpOptions().iterations(100));
  fixed.fit(*d.space, d.train, d.y_train);
  fitted.fit(*d.space, d.train, d.y_train);
  REQUIRE(fitted.log_marginal_likelihood() > fixed.log_marginal_likelihood());
  REQUIRE(fitted.length_scales().size() == static_cast<size_t>(d.space->encoding_size()));
  // At a training point the predictive std is near the noise level; an arch far from all
  // training archs has a larger one.
  const auto at = fitted.predict(*d.space, {d.train[0]});
  double far_std = 0;
  hwnas::Rng rng(99);
  for (int i = 0; i < 30; ++i) {
    auto a = d.space->sample(rng);
    if (std::find(d.train.begin(), d.train.end(), a) == d.train.end())
      far_std = std::max(far_std, fitted.predict(*d.space, {a}).std[0]);
  }
  REQUIRE(far_std > at.std[0]);
  REQUIRE(at.mean[0] == Approx(d.y_train[0]).margin(0.3));
}

TEST_CASE("MLP prediction: the first layer as a gather of sparse inputs equals the dense product", "[predictors][mlp]") {
  auto d = make_data(40, 0);
  auto p = make_predictor("mlp", {{"hidden", {24, 8}}, {"epochs", 5}});
  p->fit(*d.space, d.train, d.y_train);
  // The forward pass in double from the saved state.
  const auto state = p->to_json()["state"];
  auto reference = [&](const std::vector<float>& x) {
    std::vector<double> h(x.begin(), x.end());
    const auto& layers = state["layers"];
    for (size_t l = 0; l < layers.size(); ++l) {
      const auto& w = layers[l]["weight"]["data"];
      const auto& b = layers[l]["bias"]["data"];
      const size_t out = b.size(), in = h.size();
      std::vector<double> next(out);
      for (size_t o = 0; o < out; ++o) {
        double v = b[o].get<double>();
        for (size_t i = 0; i < in; ++i) v += w[o * in + i].get<double>() * h[i];
        next[o] = l + 1 < layers.size() ? std::max(v, 0.0) : v;
      }
      h = std::move(next);
    }
    return state["y_mean"].get<double>() + state["y_std"].get<double>() * h[0];
  };
  // One-hot rows (sparse: gathered), a few scaled values among them, and dense rows (a product).
  auto sparse = hwnas::predictors::encode_archs(*d.space, d.train);
  sparse.row(3)[0] = 0.37f;
  sparse.row(5)[1] = -2.5f;
  hwnas::predictors::Features dense(4, sparse.cols);
  hwnas::Rng rng(3);
  for (auto& v : dense.data) v = static_cast<float>(rng.uniform());
  for (const auto* x : {&sparse, &dense}) {
    const auto got = p->predict(*x).mean;
    for (int64_t i = 0; i < x->rows; ++i) {
      const std::vector<float> row(x->row(i), x->row(i) + x->cols);
      REQUIRE(got[static_cast<size_t>(i)] == Approx(reference(row)).margin(1e-5));
    }
  }
}

TEST_CASE("Once-for-All's accuracy predictor: the tutorial subnet predicts 0.81713", "[predictors][mlp][golden]") {
  auto space = hwnas::make_space("ofa");
  auto p = hwnas::predictors::import_ofa_accuracy_predictor(hwnas::test::data_dir() + "/ofa/acc_predictor.json", *space);
  REQUIRE(p->config()["hidden"] == nlohmann::json({400, 400, 400}));
  const auto arch = space->from_json(hwnas::test::ofa_tutorial_subnet());
  const double acc = p->predict(*space, {arch}).mean[0];
  // OFA's tutorial prints 0.81713 (5 digits).
  REQUIRE(acc == Approx(0.81713).margin(5e-6));
  // Saved and loaded, the same number; and the width multiplier does not change the encoding.
  const auto path = hwnas::test::temp_dir("ofa_predictor") + "/ofa_acc.json";
  p->save(path);
  auto wide = hwnas::make_space("ofa", {{"width_mult", 1.2}});
  REQUIRE(load_predictor(path)->predict(*wide, {wide->from_json(hwnas::test::ofa_tutorial_subnet())}).mean[0] == Approx(acc).margin(1e-7));
}

TEST_CASE("Predictor options built in C++ get the checks their JSON gets", "[predictors][errors]") {
  using namespace hwnas::predictors;
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, RidgePredictor(RidgeOptions().alpha(-1)), "alpha", "is -1");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, GpPredictor(GpOptions().lr(0)), "gp predictor config", "lr");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, MlpPredictor(MlpOptions().hidden({64, 0})), "hidden[1]", "is 0");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, XgboostPredictor(XgboostOptions().max_depth(100)), "max_depth", "[1, 64]");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, MlpOptions::from_json({{"hidden", {64, 0}}}), "hidden[1]");
  CHECK(MlpOptions::from_json(MlpOptions().hidden({7, 5}).seed(3).to_json()).to_json() ==
        MlpOptions().hidden({7, 5}).seed(3).to_json());
  CHECK(XgboostOptions::from_json({{"eta", 0.3}}).eta() == 0.3);
}

TEST_CASE("Predictor inputs are checked with clear errors", "[predictors][errors]") {
  auto d = make_data(20, 0);
  auto p = make_predictor("ridge");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, p->predict(*d.space, d.train), "not fitted");
  auto y = d.y_train;
  y[7] = std::nan("");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, p->fit(*d.space, d.train, y), "row 7", "nan");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, make_predictor("gp")->fit(*d.space, {d.train[0], d.train[1]}, {1.0, 2.0}),
                          "at least 3 rows");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, p->fit(*d.space, d.train, {1.0}), "20 archs but 1 targets");
  p->fit(*d.space, d.train, d.y_train);
  auto ofa = hwnas::make_space("ofa");
  hwnas::Rng rng(1);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, p->predict(*ofa, {ofa->sample(rng)}), "fitted on space 'nb201'", "space 'ofa'");
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, make_predictor("forest"), "Unknown predictor 'forest'", "gp", "xgboost");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, make_predictor("mlp", {{"hiden", {8}}}), "hiden");

  const auto dir = hwnas::test::temp_dir("predictor_errors");
  auto doc = p->to_json();
  doc["version"] = 99;
  hwnas::write_file_atomic(dir + "/newer.json", doc.dump());
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_predictor(dir + "/newer.json"), "version 99", "newer hwnas");
  const auto text = p->to_json().dump();
  hwnas::write_file_atomic(dir + "/truncated.json", text.substr(0, text.size() / 2));
  REQUIRE_THROWS_WITH_ALL(hwnas::ParseError, load_predictor(dir + "/truncated.json"), "truncated.json", "not valid JSON");
  doc = p->to_json();
  doc["state"]["weights"] = {1.0, 2.0};
  hwnas::write_file_atomic(dir + "/short.json", doc.dump());
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_predictor(dir + "/short.json"), "short.json", "\"weights\" has 2 values, expected 30");
  hwnas::write_file_atomic(dir + "/other.json", R"({"format": "something"})");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_predictor(dir + "/other.json"), "is not an hwnas predictor");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_predictor(dir + "/missing.json"), "missing.json");
  hwnas::write_file_atomic(dir + "/bad_ofa.json", R"({"0.weight": {"shape": [1, 100], "data": []}, "0.bias": {"shape": [1], "data": [0]}})");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError,
                          hwnas::predictors::import_ofa_accuracy_predictor(dir + "/bad_ofa.json", *ofa), "bad_ofa.json", "\"0.weight\" has 0 values");
}

TEST_CASE("The ensemble's default is 5 MLPs, from JSON and from C++", "[predictors]") {
  const auto from_json = hwnas::predictors::make_predictor("ensemble", nlohmann::json::object());
  const auto members = from_json->config().at("members");
  REQUIRE(members.size() == 5);
  for (size_t i = 0; i < members.size(); ++i) {
    CHECK(members[i].at("predictor") == "mlp");
    CHECK(members[i].at("config").at("seed") == i);  // seed, seed + 1, ...
  }
  const hwnas::predictors::EnsemblePredictor from_cpp{hwnas::predictors::EnsembleOptions()};
  CHECK(from_cpp.size() == 5);
  CHECK(from_cpp.config() == from_json->config());
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError,
                          hwnas::predictors::make_predictor("ensemble", {{"members", {{{"predictor", "gp"}}}}, {"size", 3}}),
                          "either \"members\"", "not both");
}

TEST_CASE("Residual predictor: a line on the cost features plus a predictor of the rest", "[predictors][residual]") {
  auto d = make_data(80, 40);
  // A target that is exactly a line in the encoded cost features: the line alone fits it,
  // and the inner ridge has nothing left to learn.
  const auto x_train = hwnas::predictors::encode_archs(*d.space, d.train, "path+cost");
  const auto x_test = hwnas::predictors::encode_archs(*d.space, d.test, "path+cost");
  auto linear = [](const hwnas::predictors::Features& x, int64_t i) {
    return 0.3 + 2.0 * x.row(i)[x.cols - 2] - 0.5 * x.row(i)[x.cols - 1];
  };
  std::vector<double> y;
  for (int64_t i = 0; i < x_train.rows; ++i) y.push_back(linear(x_train, i));
  auto p = make_predictor("residual", {{"predictor", "ridge"}, {"alpha", 0.0}, {"encoding", "path+cost"}});
  REQUIRE(p->encoding_kind() == "path+cost");
  p->fit(*d.space, d.train, y);
  const auto pred = p->predict(*d.space, d.test).mean;
  for (int64_t i = 0; i < x_test.rows; ++i) REQUIRE(pred[static_cast<size_t>(i)] == Approx(linear(x_test, i)).margin(1e-4));
  const auto state = p->to_json()["state"];
  REQUIRE(state["line"][1].get<double>() == Approx(2.0).margin(1e-3));
  REQUIRE(state["inner"]["predictor"] == "ridge");

  // The correction's scale, from held-out folds: near 1 where the rest is learnable, near 0
  // where it is noise.
  std::vector<double> learnable, noise;
  hwnas::Rng rng(11);
  for (int64_t i = 0; i < x_train.rows; ++i) {
    learnable.push_back(y[static_cast<size_t>(i)] + d.y_train[static_cast<size_t>(i)]);
    noise.push_back(y[static_cast<size_t>(i)] + rng.normal());
  }
  auto scale_of = [&](const std::vector<double>& target) {
    auto r = make_predictor("residual", {{"predictor", "ridge"}, {"config", {{"alpha", 0.1}}}, {"encoding", "path+cost"}});
    r->fit(*d.space, d.train, target);
    return r->to_json()["state"]["scale"].get<double>();
  };
  CHECK(scale_of(learnable) > 0.8);
  CHECK(scale_of(noise) < 0.3);

  REQUIRE(make_predictor("residual")->encoding_kind() == "onehot+cost");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, make_predictor("residual", {{"folds", 1}}), "\"folds\"", "0 (no scaling) or 2 to 100");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, make_predictor("residual", {{"encoding", "path"}})->fit(*d.space, d.train, y),
                          "'path'", "end with the cost features", "\"path+cost\"");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, make_predictor("residual", {{"predictor", "residual"}}), "cannot be 'residual'");
  REQUIRE_THROWS_WITH_ALL(hwnas::NotFoundError, make_predictor("residual", {{"predictor", "forest"}}), "'forest'");
  const auto dir = hwnas::test::temp_dir("residual");
  auto doc = p->to_json();
  doc["state"]["inner"]["predictor"] = "gp";
  hwnas::write_file_atomic(dir + "/other.json", doc.dump());
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_predictor(dir + "/other.json"), "other.json", "inner");
}

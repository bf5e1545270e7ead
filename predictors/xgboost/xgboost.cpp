#include "hwnas/predictors/xgboost/xgboost.h"

#include <xgboost/c_api.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"

namespace hwnas::predictors {
namespace {

void check(int rc, const char* what) {
  HWNAS_CHECK_T(Error, rc == 0, "XGBoost ", what, " failed: ", XGBGetLastError());
}

// Owns a DMatrix for the duration of a call.
struct DMatrix {
  DMatrixHandle h = nullptr;
  explicit DMatrix(const predictors::Features& x) {
    check(XGDMatrixCreateFromMat(x.data.data(), static_cast<bst_ulong>(x.rows),
                                 static_cast<bst_ulong>(x.cols), NAN, &h),
          "creating a matrix");
  }
  ~DMatrix() { XGDMatrixFree(h); }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
};

}  // namespace

XgboostPredictor::XgboostPredictor(XgboostOptions options) : options_(std::move(options)) { options_.validate(); }

XgboostPredictor::~XgboostPredictor() {
  if (booster_) XGBoosterFree(booster_);
}

void XgboostPredictor::new_booster(void* dtrain) {
  if (booster_) XGBoosterFree(booster_);
  booster_ = nullptr;
  DMatrixHandle mats[1] = {dtrain};
  check(XGBoosterCreate(mats, dtrain ? 1 : 0, &booster_), "creating a booster");
  const std::pair<const char*, std::string> params[] = {
      {"objective", "reg:squarederror"},
      {"max_depth", std::to_string(options_.max_depth())},
      {"eta", fmt::format("{}", options_.eta())},
      {"subsample", fmt::format("{}", options_.subsample())},
      {"colsample_bytree", fmt::format("{}", options_.colsample_bytree())},
      {"min_child_weight", fmt::format("{}", options_.min_child_weight())},
      {"lambda", fmt::format("{}", options_.reg_lambda())},
      {"nthread", std::to_string(options_.threads())},
      {"seed", std::to_string(options_.seed())},
      {"verbosity", "0"}};
  for (const auto& [k, v] : params) check(XGBoosterSetParam(booster_, k, v.c_str()), k);
}

void XgboostPredictor::do_fit(const predictors::Features& x, const std::vector<double>& y) {
  DMatrix d(x);
  std::vector<float> labels(y.begin(), y.end());
  check(XGDMatrixSetFloatInfo(d.h, "label", labels.data(), static_cast<bst_ulong>(labels.size())),
        "setting labels");
  new_booster(d.h);
  for (int64_t i = 0; i < options_.rounds(); ++i)
    check(XGBoosterUpdateOneIter(booster_, static_cast<int>(i), d.h), "boosting");
}

predictors::Prediction XgboostPredictor::do_predict(const predictors::Features& x) const {
  DMatrix d(x);
  bst_ulong len = 0;
  const float* out = nullptr;
  check(XGBoosterPredict(booster_, d.h, 0, 0, 0, &len, &out), "prediction");
  HWNAS_INTERNAL_ASSERT(static_cast<int64_t>(len) == x.rows, "XGBoost returned ", len, " values for ", x.rows, " rows");
  predictors::Prediction p;
  p.mean.assign(out, out + len);
  return p;
}

nlohmann::json XgboostPredictor::state() const {
  bst_ulong len = 0;
  const char* buf = nullptr;
  check(XGBoosterSaveModelToBuffer(booster_, R"({"format": "json"})", &len, &buf), "saving the model");
  return {{"model", nlohmann::json::parse(std::string(buf, len))}};
}

void XgboostPredictor::load_state(const nlohmann::json& s) {
  HWNAS_CHECK_T(DataError, s.is_object() && s.contains("model") && s["model"].is_object(),
                "predictor state: missing XGBoost \"model\" object");
  const auto text = s["model"].dump();
  new_booster(nullptr);
  check(XGBoosterLoadModelFromBuffer(booster_, text.data(), static_cast<bst_ulong>(text.size())),
        "loading the saved model");
}

void register_xgboost(predictors::PredictorRegistry& registry) {
  registry.add("xgboost", "Gradient-boosted trees (XGBoost C API)",
               [](const nlohmann::json& c) { return std::make_unique<XgboostPredictor>(XgboostOptions::from_json(c)); });
}

}  // namespace hwnas::predictors

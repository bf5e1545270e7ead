// The predictor registry and the explicit registration of the built-in predictors.
#include <nlohmann/json.hpp>

#include "hwnas/predictors/predictor.h"
#include "hwnas/predictors/ensemble/ensemble.h"
#include "hwnas/predictors/gcn/gcn.h"
#include "hwnas/predictors/gp/gp.h"
#include "hwnas/predictors/mlp/mlp.h"
#include "hwnas/predictors/residual/residual.h"
#include "hwnas/predictors/ridge/ridge.h"
#include "hwnas/predictors/xgboost/xgboost.h"

namespace hwnas::predictors {

PredictorRegistry& predictor_registry() {
  static PredictorRegistry* registry = [] {
    auto* r = new PredictorRegistry("predictor");
    predictors::register_mlp(*r);
    predictors::register_gp(*r);
    predictors::register_ridge(*r);
    predictors::register_xgboost(*r);
    predictors::register_ensemble(*r);
    predictors::register_gcn(*r);
    predictors::register_residual(*r);
    return r;
  }();
  return *registry;
}

}  // namespace hwnas::predictors

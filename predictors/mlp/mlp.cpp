#include "hwnas/predictors/mlp/mlp.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "predictors/torch_util.h"
#include "predictors/util.h"
#include "hwnas/core/json_number.h"
#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/io.h"
#include "hwnas/core/random.h"
#include "hwnas/core/search_space.h"

namespace hwnas::predictors {

namespace {

// out[0..n) += a * x[0..n); compiled for AVX2 and plain x86-64, chosen when first called.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void add_scaled(float* out, const float* x, float a, int64_t n) {
  if (a == 1.0f) {
    for (int64_t k = 0; k < n; ++k) out[k] += x[k];
  } else {
    for (int64_t k = 0; k < n; ++k) out[k] += a * x[k];
  }
}

}  // namespace

// weights[i] is [out, in] (PyTorch's convention), biases[i] is [out]; ReLU between layers.
// first_t is weights[0] transposed ([in, out], contiguous), for the first layer as a gather.
struct MlpPredictor::Layers {
  std::vector<torch::Tensor> weights, biases;
  torch::Tensor first_t;

  // Call after changing weights[0].
  void prepare() { first_t = weights[0].detach().t().contiguous(); }

  torch::Tensor forward(torch::Tensor h) const { return forward_from(1, torch::addmm(biases[0], h, weights[0].t())); }

  // For prediction: a sparse input (one-hot encodings are mostly zeros) makes the first
  // layer a sum of the rows of first_t that its non-zero features pick, each scaled by
  // the feature (1 for one-hot), instead of a dense product.
  torch::Tensor predict(const float* x, int64_t rows, int64_t cols) const {
    const int64_t nonzero = std::count_if(x, x + rows * cols, [](float v) { return v != 0.0f; });
    const auto input = torch::from_blob(const_cast<float*>(x), {rows, cols}, torch::kFloat);
    if (!first_t.defined() || 2 * nonzero > rows * cols) return forward(input);
    const int64_t width = first_t.size(1);
    auto h = biases[0].detach().contiguous().unsqueeze(0).repeat({rows, 1});
    float* out = h.data_ptr<float>();
    const float* w = first_t.data_ptr<float>();
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        if (x[i * cols + j] != 0.0f) add_scaled(out + i * width, w + j * width, x[i * cols + j], width);
    return forward_from(1, h);
  }

  // Layers `from`, ... applied to the pre-activation `h` of layer from - 1.
  torch::Tensor forward_from(size_t from, torch::Tensor h) const {
    for (size_t i = from; i < weights.size(); ++i) h = torch::addmm(biases[i], torch::relu(h), weights[i].t());
    return h.squeeze(1);
  }
  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> p(weights);
    p.insert(p.end(), biases.begin(), biases.end());
    return p;
  }
  Layers clone() const {
    Layers c;
    for (const auto& w : weights) c.weights.push_back(w.detach().clone());
    for (const auto& b : biases) c.biases.push_back(b.detach().clone());
    return c;
  }
};

namespace {

torch::Tensor features_tensor(const predictors::Features& x) {
  return torch::from_blob(const_cast<float*>(x.data.data()), {x.rows, x.cols}, torch::kFloat);
}

}  // namespace

MlpPredictor::MlpPredictor(MlpOptions options)
    : options_(std::move(options)), layers_(std::make_unique<Layers>()) {
  options_.validate();
}
MlpPredictor::~MlpPredictor() = default;

void MlpPredictor::do_fit(const predictors::Features& x, const std::vector<double>& y) {
  torch::NoGradGuard outer_no_grad;  // re-enabled for the training steps below
  Rng rng(options_.seed());
  std::tie(y_mean_, y_std_) = mean_std(y);

  // Validation split for early stopping.
  std::vector<int64_t> order(static_cast<size_t>(x.rows));
  for (int64_t i = 0; i < x.rows; ++i) order[static_cast<size_t>(i)] = i;
  rng.shuffle(order);
  int64_t n_val = static_cast<int64_t>(std::floor(options_.validation_fraction() * static_cast<double>(x.rows)));
  if (x.rows - n_val < 2) n_val = 0;
  const std::vector<int64_t> val_idx(order.begin(), order.begin() + n_val);
  const std::vector<int64_t> train_idx(order.begin() + n_val, order.end());
  auto targets = [&](const std::vector<int64_t>& idx) {
    std::vector<float> t;
    for (auto i : idx) t.push_back(static_cast<float>((y[static_cast<size_t>(i)] - y_mean_) / y_std_));
    return torch::tensor(t);
  };
  const auto xt = features_tensor(x.select(train_idx)).clone(), yt = targets(train_idx);
  const auto xv = n_val > 0 ? features_tensor(x.select(val_idx)).clone() : torch::Tensor();
  const auto yv = n_val > 0 ? targets(val_idx) : torch::Tensor();

  // PyTorch's default Linear initialisation: U(-1/sqrt(in), 1/sqrt(in)), from our own RNG.
  Layers net;
  int64_t in = x.cols;
  auto widths = options_.hidden();
  widths.push_back(1);
  for (int64_t out : widths) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    auto uniform = [&](int64_t n) {
      std::vector<float> v(static_cast<size_t>(n));
      for (auto& e : v) e = static_cast<float>((2 * rng.uniform() - 1) * bound);
      return torch::tensor(v);
    };
    net.weights.push_back(uniform(out * in).view({out, in}).set_requires_grad(true));
    net.biases.push_back(uniform(out).set_requires_grad(true));
    in = out;
  }
  const bool mse = options_.loss() != "pairwise", pairwise = options_.loss() != "mse";
  auto loss_of = [&](const torch::Tensor& p, const torch::Tensor& t) { return predictor_loss(p, t, mse, pairwise); };
  torch::optim::Adam opt(net.parameters(),
                         torch::optim::AdamOptions(options_.lr()).weight_decay(options_.weight_decay()));
  Layers best = net.clone();
  double best_val = INFINITY;
  int64_t since_best = 0;
  const int64_t n = xt.size(0), bs = std::min(options_.batch_size(), n);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  epochs_run_ = 0;
  for (int64_t epoch = 0; epoch < options_.epochs(); ++epoch) {
    for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
    rng.shuffle(perm);
    const auto p = torch::tensor(perm);
    {
      torch::AutoGradMode grad(true);
      for (int64_t b = 0; b < n; b += bs) {
        const auto idx = p.slice(0, b, std::min(b + bs, n));
        opt.zero_grad();
        auto loss = loss_of(net.forward(xt.index_select(0, idx)), yt.index_select(0, idx));
        loss.backward();
        opt.step();
      }
    }
    ++epochs_run_;
    if (n_val > 0) {
      const double val = loss_of(net.forward(xv), yv).item<double>();
      HWNAS_CHECK_T(DataError, std::isfinite(val), "mlp predictor: validation loss became ", val,
                    " at epoch ", epoch, "; lower \"lr\"");
      if (val < best_val) {
        best_val = val;
        best = net.clone();
        since_best = 0;
      } else if (++since_best >= options_.patience()) {
        break;
      }
    }
  }
  *layers_ = n_val > 0 ? best : net.clone();
  layers_->prepare();
}

predictors::Prediction MlpPredictor::do_predict(const predictors::Features& x) const {
  torch::NoGradGuard no_grad;
  const auto out = layers_->predict(x.data.data(), x.rows, x.cols).contiguous();
  predictors::Prediction p;
  p.mean.resize(static_cast<size_t>(x.rows));
  const float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < x.rows; ++i) p.mean[static_cast<size_t>(i)] = y_mean_ + y_std_ * o[i];
  return p;
}

nlohmann::json MlpPredictor::state() const {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < layers_->weights.size(); ++i)
    layers.push_back({{"weight", tensor_to_json(layers_->weights[i])},
                      {"bias", tensor_to_json(layers_->biases[i])}});
  return {{"layers", layers}, {"y_mean", y_mean_}, {"y_std", y_std_}};
}

void MlpPredictor::load_state(const nlohmann::json& s) {
  HWNAS_CHECK_T(DataError, s.is_object() && s.contains("layers") && s["layers"].is_array(),
                "predictor state: missing array \"layers\"");
  const auto& layers = s["layers"];
  HWNAS_CHECK_T(DataError, layers.size() == options_.hidden().size() + 1, "predictor state: ",
                layers.size(), " layers but \"hidden\" in the config has ", options_.hidden().size(),
                " (expected hidden + 1)");
  Layers net;
  int64_t in = encoding().size;
  for (size_t i = 0; i < layers.size(); ++i) {
    const int64_t out = i < options_.hidden().size() ? options_.hidden()[i] : 1;
    const auto what = fmt::format("predictor state: layers[{}]", i);
    net.weights.push_back(tensor_from_json(layers[i].value("weight", nlohmann::json()), {out, in}, what + ".weight"));
    net.biases.push_back(tensor_from_json(layers[i].value("bias", nlohmann::json()), {out}, what + ".bias"));
    in = out;
  }
  *layers_ = std::move(net);
  layers_->prepare();
  y_mean_ = read_number(s, "y_mean");
  y_std_ = read_number(s, "y_std");
}

std::unique_ptr<MlpPredictor> MlpPredictor::from_state_dict(const nlohmann::json& sd,
                                                            const predictors::EncodingInfo& encoding,
                                                            const std::string& where) {
  HWNAS_CHECK_T(DataError, sd.is_object(), where, ": expected a JSON object of tensors");
  // Linear layers at Sequential indices 0, 2, 4, ... (ReLU at the odd ones).
  std::vector<int64_t> hidden;
  Layers net;
  int64_t in = encoding.size;
  try {
    for (int idx = 0;; idx += 2) {
      const auto wk = fmt::format("{}.weight", idx), bk = fmt::format("{}.bias", idx);
      if (!sd.contains(wk)) break;
      HWNAS_CHECK_T(DataError, sd.contains(bk), "missing \"", bk, "\"");
      auto w = tensor_from_json(sd[wk], {}, "\"" + wk + "\"");
      HWNAS_CHECK_T(DataError, w.dim() == 2 && w.size(1) == in, "\"", wk, "\" has shape ", w.sizes(),
                    ", expected [out, ", in, "]");
      const int64_t out = w.size(0);
      net.weights.push_back(w);
      net.biases.push_back(tensor_from_json(sd[bk], {out}, "\"" + bk + "\""));
      hidden.push_back(out);
      in = out;
    }
    HWNAS_CHECK_T(DataError, !hidden.empty(), "no \"0.weight\": not a Sequential state dict of Linear layers");
    HWNAS_CHECK_T(DataError, hidden.back() == 1, "the last layer has ", hidden.back(),
                  " outputs; a predictor needs 1");
    HWNAS_CHECK_T(DataError, static_cast<size_t>(sd.size()) == 2 * hidden.size(), "has ", sd.size(),
                  " entries but only ", 2 * hidden.size(), " form consecutive Linear layers 0, 2, 4, ...");
  } catch (const DataError& e) {
    throw DataError(fmt::format("{}: {}", where, e.what()));
  }
  hidden.pop_back();
  auto p = std::make_unique<MlpPredictor>(MlpOptions().hidden(hidden));
  *p->layers_ = std::move(net);
  p->layers_->prepare();
  p->y_mean_ = 0;
  p->y_std_ = 1;
  p->mark_fitted(encoding);
  return p;
}

std::unique_ptr<MlpPredictor> import_ofa_accuracy_predictor(const std::string& path,
                                                            const SearchSpace& ofa_space) {
  HWNAS_CHECK_T(ConfigError, ofa_space.name() == "ofa" && ofa_space.encoding_size() == 128,
                "Once-for-All's accuracy predictor works on the 'ofa' space's 128-value encoding, "
                "not on space '", ofa_space.name(), "'");
  const auto sd = read_json_file(path, "OFA accuracy predictor");
  auto p = MlpPredictor::from_state_dict(sd, predictors::EncodingInfo::of(ofa_space), "OFA accuracy predictor " + path);
  p->set_target("imagenet_top1");
  return p;
}

void register_mlp(predictors::PredictorRegistry& registry) {
  registry.add("mlp", "Multi-layer perceptron (LibTorch), Adam with early stopping",
               [](const nlohmann::json& c) { return std::make_unique<MlpPredictor>(MlpOptions::from_json(c)); });
}

}  // namespace hwnas::predictors

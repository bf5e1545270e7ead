#include "hwnas/predictors/gcn/gcn.h"

#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "predictors/torch_util.h"
#include "predictors/util.h"
#include "hwnas/core/error.h"
#include "hwnas/core/random.h"

namespace hwnas::predictors {

namespace {

// The encoded archs as graphs: per arch and cell the row-normalised adjacency with
// self-loops for the forward propagation, its transpose row-normalised again for the
// backward one (NASLib's), the one-hot node operations; the features outside the graph.
struct Graphs {
  torch::Tensor forward, backward;  // [rows, cells, nodes, nodes]
  torch::Tensor ops;                // [rows, cells, nodes, types]
  torch::Tensor extra;              // [rows, features outside the graph part]

  Graphs select(const torch::Tensor& idx) const {
    return {forward.index_select(0, idx), backward.index_select(0, idx), ops.index_select(0, idx),
            extra.index_select(0, idx)};
  }
};

torch::Tensor row_normalised(const torch::Tensor& a) { return a / a.sum(-1, true); }

Graphs graphs_of(const predictors::Features& x, const predictors::EncodingInfo& e) {
  const int64_t c = e.graph.cells, n = e.graph.nodes, t = e.graph.types, off = e.graph_offset;
  const int64_t block = e.graph.size();
  const auto all = torch::from_blob(const_cast<float*>(x.data.data()), {x.rows, x.cols}, torch::kFloat);
  const auto cells = all.slice(1, off, off + block).reshape({x.rows, c, n * n + n * t});
  const auto adj = row_normalised(cells.slice(2, 0, n * n).reshape({x.rows, c, n, n}) + torch::eye(n));
  Graphs g;
  g.forward = adj.contiguous();
  g.backward = row_normalised(adj.transpose(2, 3)).contiguous();
  g.ops = cells.slice(2, n * n, n * n + n * t).reshape({x.rows, c, n, t}).contiguous();
  g.extra = torch::cat({all.slice(1, 0, off), all.slice(1, off + block, x.cols)}, 1).contiguous();
  return g;
}

// Inverted dropout: zeroes each value with probability p, scales the rest by 1 / (1 - p).
torch::Tensor dropout(const torch::Tensor& h, double p, at::Generator* gen) {
  if (gen == nullptr || p == 0) return h;
  return h * torch::empty_like(h).bernoulli_(1 - p, *gen) / (1 - p);
}

}  // namespace

// forward[l], backward[l]: [in, hidden] (in: the node types for l = 0); fc1 [linear_hidden,
// cells * hidden + extra], fc2 [1, linear_hidden] (PyTorch's Linear layout).
struct GcnPredictor::Net {
  std::vector<torch::Tensor> forward_w, backward_w;
  torch::Tensor fc1, fc2;

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> p(forward_w);
    p.insert(p.end(), backward_w.begin(), backward_w.end());
    p.push_back(fc1);
    p.push_back(fc2);
    return p;
  }

  // Dropout only with a generator (training).
  torch::Tensor forward(const Graphs& g, double p, at::Generator* gen) const {
    const int64_t rows = g.ops.size(0), cells = g.ops.size(1), n = g.ops.size(2);
    const auto fwd = g.forward.reshape({rows * cells, n, n}), bwd = g.backward.reshape({rows * cells, n, n});
    auto h = g.ops.reshape({rows * cells, n, g.ops.size(3)});
    for (size_t l = 0; l < forward_w.size(); ++l) {
      const auto f = torch::relu(torch::bmm(fwd, torch::matmul(h, forward_w[l])));
      const auto b = torch::relu(torch::bmm(bwd, torch::matmul(h, backward_w[l])));
      h = dropout((f + b) * 0.5, p, gen);
    }
    auto z = h.mean(1).reshape({rows, -1});  // the cells' embeddings side by side
    if (g.extra.size(1) > 0) z = torch::cat({z, g.extra}, 1);
    z = dropout(torch::matmul(z, fc1.t()), p, gen);
    return torch::matmul(z, fc2.t()).squeeze(1);
  }
};

GcnPredictor::GcnPredictor(GcnOptions options)
    : options_(std::move(options)), net_(std::make_unique<Net>()) {
  options_.validate();
  set_encoding_kind("graph");
}
GcnPredictor::~GcnPredictor() = default;

namespace {

void check_graph(const predictors::EncodingInfo& e, const char* when) {
  HWNAS_CHECK_T(ConfigError, e.graph_offset >= 0, "gcn predictor", when, ": encoding '", e.kind, "' of space '",
                e.space, "' holds no cell graph; use the \"graph\" encoding (spaces nb201, darts), alone or "
                "joined with others, e.g. \"graph+cost\"");
}

}  // namespace

void GcnPredictor::do_fit(const predictors::Features& x, const std::vector<double>& y) {
  const auto& e = encoding();
  check_graph(e, "");
  torch::NoGradGuard outer_no_grad;  // re-enabled for the training steps below
  Rng rng(options_.seed());
  auto gen = at::detail::createCPUGenerator(options_.seed());
  std::tie(y_mean_, y_std_) = mean_std(y);
  const Graphs data = graphs_of(x, e);
  std::vector<float> t;
  for (double v : y) t.push_back(static_cast<float>((v - y_mean_) / y_std_));
  const auto targets = torch::tensor(t);

  // Glorot-uniform graph weights (NASLib's), PyTorch's default U(+-1/sqrt(in)) for the head.
  auto uniform = [&](int64_t rows, int64_t cols, double bound) {
    std::vector<float> v(static_cast<size_t>(rows * cols));
    for (auto& w : v) w = static_cast<float>((2 * rng.uniform() - 1) * bound);
    return torch::tensor(v).view({rows, cols}).set_requires_grad(true);
  };
  Net net;
  const int64_t hidden = options_.hidden();
  for (int64_t l = 0, in = e.graph.types; l < options_.layers(); ++l, in = hidden) {
    const double bound = std::sqrt(6.0 / static_cast<double>(in + hidden));
    net.forward_w.push_back(uniform(in, hidden, bound));
    net.backward_w.push_back(uniform(in, hidden, bound));
  }
  const int64_t head_in = e.graph.cells * hidden + data.extra.size(1);
  net.fc1 = uniform(options_.linear_hidden(), head_in, 1.0 / std::sqrt(static_cast<double>(head_in)));
  net.fc2 = uniform(1, options_.linear_hidden(), 1.0 / std::sqrt(static_cast<double>(options_.linear_hidden())));

  const bool mse = options_.loss() != "pairwise", pairwise = options_.loss() != "mse";
  torch::optim::Adam opt(net.parameters(),
                         torch::optim::AdamOptions(options_.lr()).weight_decay(options_.weight_decay()));
  auto& lr = static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options());
  // Whole batches only (the last partial one is dropped, as NASLib's loader does).
  const int64_t n = x.rows, bs = std::min(options_.batch_size(), n), batches = n / bs;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t epoch = 0; epoch < options_.epochs(); ++epoch) {
    lr.lr(options_.lr() * 0.5 * (1 + std::cos(M_PI * static_cast<double>(epoch) / static_cast<double>(options_.epochs()))));
    for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
    rng.shuffle(perm);
    const auto p = torch::tensor(perm);
    torch::AutoGradMode grad(true);
    for (int64_t b = 0; b < batches; ++b) {
      const auto idx = p.slice(0, b * bs, (b + 1) * bs);
      opt.zero_grad();
      auto loss = predictor_loss(net.forward(data.select(idx), options_.dropout(), &gen),
                                 targets.index_select(0, idx), mse, pairwise);
      loss.backward();
      opt.step();
    }
  }
  for (const auto& w : net.parameters())
    HWNAS_CHECK_T(DataError, torch::isfinite(w).all().item<bool>(),
                  "gcn predictor: the weights became non-finite in training; lower \"lr\"");
  *net_ = std::move(net);
}

predictors::Prediction GcnPredictor::do_predict(const predictors::Features& x) const {
  torch::NoGradGuard no_grad;
  predictors::Prediction p;
  p.mean.resize(static_cast<size_t>(x.rows));
  constexpr int64_t kChunk = 4096;  // bounds the hidden activations' memory
  for (int64_t start = 0; start < x.rows; start += kChunk) {
    const auto rows = std::min(kChunk, x.rows - start);
    std::vector<int64_t> idx(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) idx[static_cast<size_t>(i)] = start + i;
    const auto out = net_->forward(graphs_of(x.select(idx), encoding()), 0, nullptr).contiguous();
    const float* o = out.data_ptr<float>();
    for (int64_t i = 0; i < rows; ++i) p.mean[static_cast<size_t>(start + i)] = y_mean_ + y_std_ * o[i];
  }
  return p;
}

nlohmann::json GcnPredictor::state() const {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < net_->forward_w.size(); ++l)
    layers.push_back({{"forward", tensor_to_json(net_->forward_w[l])}, {"backward", tensor_to_json(net_->backward_w[l])}});
  return {{"layers", layers}, {"fc1", tensor_to_json(net_->fc1)}, {"fc2", tensor_to_json(net_->fc2)},
          {"y_mean", y_mean_}, {"y_std", y_std_}};
}

void GcnPredictor::load_state(const nlohmann::json& s) {
  const auto& e = encoding();
  try {
    check_graph(e, " state");
  } catch (const ConfigError& err) {
    throw DataError(err.what());
  }
  HWNAS_CHECK_T(DataError, s.is_object() && s.contains("layers") && s["layers"].is_array(),
                "predictor state: missing array \"layers\"");
  const auto& layers = s["layers"];
  HWNAS_CHECK_T(DataError, static_cast<int64_t>(layers.size()) == options_.layers(), "predictor state: ",
                layers.size(), " graph layers but \"layers\" in the config is ", options_.layers());
  Net net;
  const int64_t hidden = options_.hidden();
  for (size_t l = 0; l < layers.size(); ++l) {
    const int64_t in = l == 0 ? e.graph.types : hidden;
    const auto what = fmt::format("predictor state: layers[{}]", l);
    HWNAS_CHECK_T(DataError, layers[l].is_object(), what, " must be an object");
    net.forward_w.push_back(tensor_from_json(layers[l].value("forward", nlohmann::json()), {in, hidden}, what + ".forward"));
    net.backward_w.push_back(tensor_from_json(layers[l].value("backward", nlohmann::json()), {in, hidden}, what + ".backward"));
  }
  const int64_t head_in = e.graph.cells * hidden + e.size - e.graph.size();
  net.fc1 = tensor_from_json(s.value("fc1", nlohmann::json()), {options_.linear_hidden(), head_in}, "predictor state: fc1");
  net.fc2 = tensor_from_json(s.value("fc2", nlohmann::json()), {1, options_.linear_hidden()}, "predictor state: fc2");
  y_mean_ = read_number(s, "y_mean");
  y_std_ = read_number(s, "y_std");
  *net_ = std::move(net);
}

void register_gcn(predictors::PredictorRegistry& registry) {
  registry.add("gcn", "Graph convolutional network over the cell DAG (LibTorch; the \"graph\" encoding)",
               [](const nlohmann::json& c) { return std::make_unique<GcnPredictor>(GcnOptions::from_json(c)); });
}

}  // namespace hwnas::predictors

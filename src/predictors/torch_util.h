#pragma once
// Helpers of the LibTorch predictors (mlp, gcn; not installed): tensors in predictor
// states as {"shape": [...], "data": [...]} (row-major float values), and their losses.
#include <torch/torch.h>

#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/json_number.h"

namespace hwnas::predictors {

inline nlohmann::json tensor_to_json(const torch::Tensor& t) {
  auto c = t.detach().contiguous().to(torch::kFloat);
  std::vector<float> data(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return {{"shape", c.sizes().vec()}, {"data", data}};
}

/// The tensor of `j`, checked to have `shape` unless it is empty; `what` names it in errors.
inline torch::Tensor tensor_from_json(const nlohmann::json& j, const std::vector<int64_t>& shape,
                                      const std::string& what) {
  HWNAS_CHECK_T(DataError, j.is_object() && j.contains("shape") && j.contains("data") &&
                               j["shape"].is_array() && j["data"].is_array(),
                what, " must be {\"shape\": [...], \"data\": [...]}");
  std::vector<int64_t> got;
  for (const auto& d : j["shape"]) got.push_back(json_integer<int64_t>(d, what + " shape"));
  HWNAS_CHECK_T(DataError, shape.empty() || got == shape, what, " has shape [",
                fmt::format("{}", fmt::join(got, ", ")), "], expected [",
                fmt::format("{}", fmt::join(shape, ", ")), "]");
  int64_t n = 1;
  for (auto s : got) {
    HWNAS_CHECK_T(DataError, s >= 0 && (s == 0 || n <= (int64_t{1} << 40) / s), what, " has an impossible shape [",
                  fmt::format("{}", fmt::join(got, ", ")), "]; fix the file or write it again with hwnas");
    n *= s;
  }
  HWNAS_CHECK_T(DataError, static_cast<int64_t>(j["data"].size()) == n, what, " has ",
                j["data"].size(), " values for shape of ", n);
  std::vector<float> data;
  data.reserve(static_cast<size_t>(n));
  for (size_t i = 0; i < j["data"].size(); ++i) data.push_back(json_float(j["data"][i], detail::concat(what, " value ", i)));
  return torch::from_blob(data.data(), got, torch::kFloat).clone();
}

/// The training loss of predictions `p` for standardised targets `t`: their mean squared
/// error (`mse`), plus (`pairwise`) the logistic loss of every ordered pair,
/// log(1 + exp(-(p_i - p_j))) for t_i > t_j, averaged over the pairs (RankNet).
inline torch::Tensor predictor_loss(const torch::Tensor& p, const torch::Tensor& t, bool mse, bool pairwise) {
  torch::Tensor loss = torch::zeros({});
  if (mse) loss = loss + torch::mse_loss(p, t);
  if (pairwise && p.size(0) > 1) {
    const auto diff = p.unsqueeze(1) - p.unsqueeze(0);                       // p_i - p_j
    const auto above = (t.unsqueeze(1) > t.unsqueeze(0)).to(torch::kFloat);  // t_i > t_j
    const auto pairs = above.sum();
    if (pairs.item<float>() > 0) loss = loss + (torch::softplus(-diff) * above).sum() / pairs;
  }
  return loss;
}

}  // namespace hwnas::predictors

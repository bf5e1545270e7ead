#pragma once
// Zero-cost proxies: scores of an untrained network from one minibatch, as defined in
//   synflow    Tanaka et al., NeurIPS 2020 (SynFlow), as used for NAS by
//   grad_norm, snip, grasp, fisher, jacob_cov
//              Abdelfattah et al., ICLR 2021, "Zero-Cost Proxies for Lightweight NAS";
//   snip       Lee et al., ICLR 2019;  grasp  Wang et al., ICLR 2020;
//   fisher     Theis et al. 2018 / Turner et al. 2020;  jacob_cov  Mellor et al. 2021 (NASWOT v1);
//   params, macs  the analytic costs, as baselines.
// Each score sums a per-layer quantity over the convolution and linear weights; see
// docs/estimation.md ("Zero-cost proxies") for the formulas. Higher is meant to be better
// for every proxy.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hwnas/core/search_space.h"
#include "hwnas/data/dataset.h"
#include "hwnas/estimate/evaluator.h"

namespace hwnas::nn {
class Network;
}

namespace hwnas::estimate {

/// Every proxy this build computes, in a fixed order.
const std::vector<std::string>& proxy_names();

/// One proxy on a freshly initialised network from `make_net` (called once per proxy
/// that changes the network, so every proxy sees the same initial weights when the
/// factory seeds them). `batch` is one minibatch of the user's data. Throws NotFoundError
/// listing the proxies for an unknown name. params and macs are not computed here.
double compute_proxy(const std::string& name, const std::function<std::shared_ptr<nn::Network>()>& make_net,
                     const data::Batch& batch);

struct ProxyOptions {
  /// The proxies to compute (default: all).
  HWNAS_ARG(std::vector<std::string>, proxies) = proxy_names();
  /// Seeds the initial weights (with the arch string; see arch_seed).
  HWNAS_ARG(uint64_t, seed) = 0;
};

/// The proxies of each arch as metrics; all archs see the same minibatch.
class ProxyEvaluator : public Evaluator {
 public:
  ProxyEvaluator(std::shared_ptr<const SearchSpace> space, data::Batch batch, ProxyOptions options = {});
  std::string name() const override { return "proxies"; }
  std::vector<std::string> metrics() const override { return options_.proxies(); }

 protected:
  std::vector<Metrics> do_evaluate(const std::vector<Arch>& archs) override;

 private:
  std::shared_ptr<const SearchSpace> space_;
  data::Batch batch_;
  ProxyOptions options_;
};

}  // namespace hwnas::estimate

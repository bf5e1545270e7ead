#include "hwnas/oneshot/method.h"

#include "hwnas/core/error.h"
#include "hwnas/oneshot/differentiable.h"

namespace hwnas::oneshot {
namespace {

// A differentiable method (DifferentiableSearch) as a registered one-shot method.
class DifferentiableMethod : public OneShotMethod {
 public:
  DifferentiableMethod(const std::string& name, const nlohmann::json& config, const MethodContext& context) {
    HWNAS_CHECK_T(ConfigError, !config.contains("seed") && !config.contains("checkpoint"), "strategy ", name,
                  ": \"seed\" and \"checkpoint\" come from the experiment (its seed and output directory)");
    auto j = config;
    j["name"] = name;
    const auto o = DifferentiableOptions::from_json(j).seed(context.seed).checkpoint(context.checkpoint);
    std::shared_ptr<const cost::LatencyModel> latency;
    if (o.hardware().form() != "none") {
      HWNAS_CHECK_T(ConfigError, static_cast<bool>(context.latency), "The ", o.hardware().form(),
                    " hardware loss needs a latency model, and this run has none");
      latency = context.latency(o.hardware().device());
    }
    search_ = std::make_unique<DifferentiableSearch>(context.space, o, latency);
  }
  std::string name() const override { return search_->options().method(); }
  int64_t epochs() const override { return search_->options().epochs(); }
  int64_t epoch() const override { return search_->epoch(); }
  void run(const data::Dataset& train, const std::function<void()>& on_epoch, const std::atomic<bool>* stop) override {
    search_->run(train, [&](const EpochReport&) { if (on_epoch) on_epoch(); }, stop);
  }
  std::vector<nlohmann::json> reports() const override {
    std::vector<nlohmann::json> out;
    for (const auto& r : search_->reports()) out.push_back(r.to_json());
    return out;
  }
  Arch select(const data::Dataset& valid) override { return search_->select(valid); }
  void load(const std::string& path) override { search_->load(path); }

 private:
  std::unique_ptr<DifferentiableSearch> search_;
};

const char* description_of(const std::string& method) {
  if (method == "darts") return "DARTS (Liu et al. 2019): softmax mixture of every option, first or second order";
  if (method == "pcdarts") return "PC-DARTS (Xu et al. 2020): DARTS over partial channels, edge normalisation";
  if (method == "gdas") return "GDAS (Dong & Yang 2019): one op per decision by hard Gumbel-softmax";
  if (method == "fbnet") return "FBNet (Wu et al. 2019): soft Gumbel-softmax mixture, latency-aware loss";
  return "ProxylessNAS (Cai et al. 2019): binarised paths, two sampled candidates per arch step";
}

}  // namespace

MethodRegistry& method_registry() {
  static MethodRegistry* registry = [] {
    auto* r = new MethodRegistry("one-shot method");
    for (const auto& name : differentiable_methods())
      r->add(name, description_of(name), [name](const nlohmann::json& config, const MethodContext& context) {
        return std::make_unique<DifferentiableMethod>(name, config, context);
      });
    return r;
  }();
  return *registry;
}

}  // namespace hwnas::oneshot

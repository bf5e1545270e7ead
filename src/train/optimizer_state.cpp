#include "train/optimizer_state.h"

#include <cmath>

#include <fmt/format.h>

#include "hwnas/core/error.h"

namespace hwnas::train::detail {
namespace {

using hwnas::detail::TensorArchive;

std::string key_of(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

// Puts `t` under `name` when defined (an undefined tensor: no entry).
void put(TensorArchive& a, const std::string& name, const torch::Tensor& t) {
  if (t.defined()) a.put(name, t);
}

}  // namespace

void save_optimizer(const torch::optim::Optimizer& optimizer, TensorArchive& archive, const std::string& prefix) {
  const auto& groups = optimizer.param_groups();
  archive.put_int(prefix + "groups", static_cast<int64_t>(groups.size()));
  int64_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    archive.put_double(fmt::format("{}group{}.lr", prefix, g), groups[g].options().get_lr());
    archive.put_int(fmt::format("{}group{}.params", prefix, g), static_cast<int64_t>(groups[g].params().size()));
    for (const auto& p : groups[g].params()) {
      const auto at = fmt::format("{}p{}.", prefix, index++);
      const auto it = optimizer.state().find(key_of(p));
      if (it == optimizer.state().end()) continue;
      if (const auto* s = dynamic_cast<const torch::optim::SGDParamState*>(it->second.get())) {
        put(archive, at + "momentum_buffer", s->momentum_buffer());
      } else if (const auto* s = dynamic_cast<const torch::optim::AdamParamState*>(it->second.get())) {
        archive.put_int(at + "step", s->step());
        put(archive, at + "exp_avg", s->exp_avg());
        put(archive, at + "exp_avg_sq", s->exp_avg_sq());
        put(archive, at + "max_exp_avg_sq", s->max_exp_avg_sq());
      } else {
        HWNAS_INTERNAL_ASSERT(false, "save_optimizer supports SGD and Adam");
      }
    }
  }
}

void load_optimizer(torch::optim::Optimizer& optimizer, const TensorArchive& archive, const std::string& prefix,
                    const std::string& path) {
  auto& groups = optimizer.param_groups();
  int64_t count = 0;
  HWNAS_CHECK_T(DataError, archive.get_int(prefix + "groups", count) && count == static_cast<int64_t>(groups.size()),
                "The checkpoint '", path, "' holds optimizer state of another shape; it was written by another "
                "version or run");
  // Read and checked whole before the optimizer is changed.
  std::vector<double> lrs;
  std::vector<std::pair<std::string, std::unique_ptr<torch::optim::OptimizerParamState>>> states;
  int64_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    double lr = 0;
    HWNAS_CHECK_T(DataError, archive.get_int(fmt::format("{}group{}.params", prefix, g), count) &&
                                 count == static_cast<int64_t>(groups[g].params().size()),
                  "The checkpoint '", path, "' holds optimizer state for other parameters");
    HWNAS_CHECK_T(DataError, archive.get_double(fmt::format("{}group{}.lr", prefix, g), lr) && std::isfinite(lr) &&
                                 lr >= 0,
                  "The checkpoint '", path, "' has no valid learning rate for parameter group ", g);
    lrs.push_back(lr);
    const bool adam = dynamic_cast<const torch::optim::AdamOptions*>(&groups[g].options()) != nullptr;
    for (const auto& p : groups[g].params()) {
      const auto at = fmt::format("{}p{}.", prefix, index++);
      auto get = [&](const char* what) {
        const auto* t = archive.tensor(at + what);
        if (!t) return torch::Tensor();
        HWNAS_CHECK_T(DataError, t->sizes() == p.sizes() && t->scalar_type() == p.scalar_type(), "The checkpoint '",
                      path, "' stores ", what, " of parameter ", index - 1, " with shape ", t->sizes(), " (",
                      t->scalar_type(), "), not ", p.sizes(), " (", p.scalar_type(), ")");
        return *t;
      };
      if (adam) {
        int64_t step = 0;
        if (!archive.tensor(at + "step")) continue;  // no state yet
        HWNAS_CHECK_T(DataError, archive.get_int(at + "step", step) && step >= 0, "The checkpoint '", path,
                      "' has a bad Adam step");
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(step);
        s->exp_avg(get("exp_avg"));
        s->exp_avg_sq(get("exp_avg_sq"));
        s->max_exp_avg_sq(get("max_exp_avg_sq"));
        HWNAS_CHECK_T(DataError, s->exp_avg().defined() && s->exp_avg_sq().defined(), "The checkpoint '", path,
                      "' has no Adam moments for parameter ", index - 1);
        states.emplace_back(key_of(p), std::move(s));
      } else {
        auto buffer = get("momentum_buffer");
        if (!buffer.defined()) continue;
        auto s = std::make_unique<torch::optim::SGDParamState>();
        s->momentum_buffer(buffer);
        states.emplace_back(key_of(p), std::move(s));
      }
    }
  }
  for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
  auto& state = optimizer.state();
  state.clear();
  for (auto& [key, s] : states) state[key] = std::move(s);
}

}  // namespace hwnas::train::detail

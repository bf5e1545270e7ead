#include "train/optimizer_state.h"

#include <fmt/format.h>

#include "hwnas/core/error.h"

namespace hwnas::train::detail {
namespace {

std::string key_of(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

// Writes `t` under `name` when defined (an undefined tensor: no entry).
void put(torch::serialize::OutputArchive& a, const std::string& name, const torch::Tensor& t) {
  if (t.defined()) a.write(name, t);
}

torch::Tensor get(torch::serialize::InputArchive& a, const std::string& name) {
  torch::Tensor t;
  return a.try_read(name, t) ? t : torch::Tensor();
}

}  // namespace

void save_optimizer(const torch::optim::Optimizer& optimizer, torch::serialize::OutputArchive& archive) {
  const auto& groups = optimizer.param_groups();
  archive.write("groups", c10::IValue(static_cast<int64_t>(groups.size())));
  int64_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    archive.write(fmt::format("group{}.lr", g), c10::IValue(groups[g].options().get_lr()));
    archive.write(fmt::format("group{}.params", g), c10::IValue(static_cast<int64_t>(groups[g].params().size())));
    for (const auto& p : groups[g].params()) {
      const auto prefix = fmt::format("p{}.", index++);
      const auto it = optimizer.state().find(key_of(p));
      if (it == optimizer.state().end()) continue;
      if (const auto* s = dynamic_cast<const torch::optim::SGDParamState*>(it->second.get())) {
        put(archive, prefix + "momentum_buffer", s->momentum_buffer());
      } else if (const auto* s = dynamic_cast<const torch::optim::AdamParamState*>(it->second.get())) {
        archive.write(prefix + "step", c10::IValue(s->step()));
        put(archive, prefix + "exp_avg", s->exp_avg());
        put(archive, prefix + "exp_avg_sq", s->exp_avg_sq());
        put(archive, prefix + "max_exp_avg_sq", s->max_exp_avg_sq());
      } else {
        HWNAS_INTERNAL_ASSERT(false, "save_optimizer supports SGD and Adam");
      }
    }
  }
}

void load_optimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive,
                    const std::string& path) {
  auto& groups = optimizer.param_groups();
  c10::IValue v;
  HWNAS_CHECK_T(DataError, archive.try_read("groups", v) && v.isInt() && v.toInt() == static_cast<int64_t>(groups.size()),
                "The checkpoint '", path, "' holds optimizer state of another shape; it was written by another "
                "version or run");
  auto& state = optimizer.state();
  state.clear();
  int64_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    HWNAS_CHECK_T(DataError, archive.try_read(fmt::format("group{}.params", g), v) && v.isInt() &&
                                 v.toInt() == static_cast<int64_t>(groups[g].params().size()),
                  "The checkpoint '", path, "' holds optimizer state for other parameters");
    HWNAS_CHECK_T(DataError, archive.try_read(fmt::format("group{}.lr", g), v) && v.isDouble(), "The checkpoint '",
                  path, "' has no learning rate for parameter group ", g);
    groups[g].options().set_lr(v.toDouble());
    const bool adam = dynamic_cast<const torch::optim::AdamOptions*>(&groups[g].options()) != nullptr;
    for (const auto& p : groups[g].params()) {
      const auto prefix = fmt::format("p{}.", index++);
      auto check = [&](const torch::Tensor& t, const char* what) {
        HWNAS_CHECK_T(DataError, !t.defined() || t.sizes() == p.sizes(), "The checkpoint '", path, "' stores ", what,
                      " of parameter ", index - 1, " with shape ", t.sizes(), ", not ", p.sizes());
        return t;
      };
      if (adam) {
        if (!archive.try_read(prefix + "step", v)) continue;  // no state yet
        HWNAS_CHECK_T(DataError, v.isInt() && v.toInt() >= 0, "The checkpoint '", path, "' has a bad Adam step");
        auto s = std::make_unique<torch::optim::AdamParamState>();
        s->step(v.toInt());
        s->exp_avg(check(get(archive, prefix + "exp_avg"), "exp_avg"));
        s->exp_avg_sq(check(get(archive, prefix + "exp_avg_sq"), "exp_avg_sq"));
        s->max_exp_avg_sq(check(get(archive, prefix + "max_exp_avg_sq"), "max_exp_avg_sq"));
        state[key_of(p)] = std::move(s);
      } else {
        auto buffer = check(get(archive, prefix + "momentum_buffer"), "momentum_buffer");
        if (!buffer.defined()) continue;
        auto s = std::make_unique<torch::optim::SGDParamState>();
        s->momentum_buffer(buffer);
        state[key_of(p)] = std::move(s);
      }
    }
  }
}

}  // namespace hwnas::train::detail

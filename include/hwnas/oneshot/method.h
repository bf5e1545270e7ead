#pragma once
// One-shot methods: search strategies of their own kind. Where an ask/tell strategy
// (hwnas/strategy/strategy.h) proposes archs and learns from their measured metrics, a
// one-shot method trains on the data (typically a weight-sharing supernet) and then names
// its arch. An experiment whose "strategy" names one runs it: its epochs (resumable from
// its checkpoint, each reported in epochs.jsonl), then the selected arch measured like any
// candidate (log.jsonl, best.json, pareto.json). Built-ins: the differentiable methods
// (hwnas/oneshot/differentiable.h). `hwnas strategies` lists both kinds.
//
// Example (examples/custom_oneshot.cpp is a complete one):
//   hwnas::oneshot::method_registry().add("rsws", "Random search with weight sharing",
//       [](const nlohmann::json& config, const hwnas::oneshot::MethodContext& context) {
//         return std::make_unique<MyMethod>(config, context);
//       });
//   // then: ExperimentConfig().strategy("rsws") ...
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/arch.h"
#include "hwnas/core/registry.h"
#include "hwnas/data/dataset.h"

namespace hwnas {
class SearchSpace;
namespace cost {
class LatencyModel;
}
}  // namespace hwnas

namespace hwnas::oneshot {

/// What a one-shot method gets from the experiment that runs it.
struct MethodContext {
  std::shared_ptr<const SearchSpace> space;
  uint64_t seed = 0;
  /// Where run() saves the method's state after every epoch ("" : nowhere); the experiment
  /// load()s it to resume.
  std::string checkpoint;
  /// The experiment's latency model of a device ("": its only one); throws ConfigError
  /// naming the devices there are. Unset: none.
  std::function<std::shared_ptr<const cost::LatencyModel>(const std::string& device)> latency;
};

class OneShotMethod {
 public:
  virtual ~OneShotMethod() = default;
  virtual std::string name() const = 0;
  /// Epochs in all, and those done (after a load(), the checkpoint's).
  virtual int64_t epochs() const = 0;
  virtual int64_t epoch() const = 0;
  /// Runs the remaining epochs. After each it saves to MethodContext::checkpoint (when
  /// set), then calls on_epoch; it returns early after an epoch once `stop` is true.
  virtual void run(const data::Dataset& train, const std::function<void()>& on_epoch,
                   const std::atomic<bool>* stop) = 0;
  /// One JSON object per finished epoch (a line of epochs.jsonl); "seconds" in it, when
  /// present, counts toward the run's elapsed time.
  virtual std::vector<nlohmann::json> reports() const = 0;
  /// The final arch, after the last epoch (`valid`: the evaluator's validation data).
  virtual Arch select(const data::Dataset& valid) = 0;
  /// Restores a checkpoint written by run(); throws DataError naming the problem.
  virtual void load(const std::string& path) = 0;
};

using MethodRegistry = Registry<OneShotMethod, const MethodContext&>;
/// The one-shot method registry with the built-ins (darts, pcdarts, gdas, fbnet, proxyless).
MethodRegistry& method_registry();

}  // namespace hwnas::oneshot

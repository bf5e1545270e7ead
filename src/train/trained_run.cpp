#include "hwnas/train/trained_run.h"

#include <filesystem>

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/search_spaces/registry.h"
#include "hwnas/train/final_training.h"

namespace hwnas::train {

namespace fs = std::filesystem;

TrainedRun TrainedRun::open(const std::string& dir) {
  fs::path run(dir);
  HWNAS_CHECK_T(NotFoundError, fs::is_directory(run), "No run directory '", dir, "'");
  // A search run whose winner was trained into RUN/train is opened there.
  if (!fs::exists(run / "weights.pt") && fs::exists(run / "train" / "weights.pt")) run /= "train";
  if (!fs::exists(run / "weights.pt")) {
    if (fs::exists(run / "best.json"))
      throw NotFoundError(fmt::format("'{}' is a search run without a trained model; train its best arch first: "
                                      "`hwnas train --from-search {} --out {}/train --epochs 5`",
                                      dir, dir, dir));
    if (fs::exists(run / "checkpoint"))
      throw NotFoundError(fmt::format("'{}' holds an unfinished training (a checkpoint, no weights.pt); finish it "
                                      "with the same `hwnas train ... --out {}` command and --resume", dir, dir));
    throw NotFoundError(fmt::format("'{}' holds no trained model (weights.pt from `hwnas train`) and is no search "
                                    "run (best.json from `hwnas search`)", dir));
  }
  const auto arch_path = (run / "arch.json").string();
  const auto arch_file = read_json_file(arch_path, "run file");
  HWNAS_CHECK_T(DataError, arch_file.is_object() && arch_file.contains("space") && arch_file.contains("arch") &&
                               arch_file["space"].is_string() && arch_file["arch"].is_string(),
                "'", arch_path, "' has no \"space\" and \"arch\" strings; was it written by hwnas train?");
  TrainedRun r;
  r.dir = run.string();
  r.space = make_space(arch_file["space"].get<std::string>(), arch_file.value("space_config", nlohmann::json::object()));
  r.arch = r.space->parse(arch_file["arch"].get<std::string>());
  if (fs::exists(run / "train.json")) r.summary = read_json_file((run / "train.json").string(), "run file");
  return r;
}

std::string TrainedRun::weights_path() const { return (fs::path(dir) / "weights.pt").string(); }

std::shared_ptr<nn::Network> TrainedRun::network() const {
  auto net = space->build(arch);
  load_weights(*net, weights_path());
  net->eval();
  return net;
}

}  // namespace hwnas::train

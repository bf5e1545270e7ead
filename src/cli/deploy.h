#pragma once
// hwnas train and hwnas export, shared with the quickstart.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/context.h"

namespace hwnas::cli {

struct TrainArgs {
  SpaceArgs space;
  std::string arch, from_search, supernet;
  DataSourceArgs data;
  int64_t train_size = 0, test_size = 0;  // 0: the whole part
  int64_t epochs = 10, steps_per_epoch = 0, batch_size = 96, warmup_epochs = -1;
  double lr = 0.05, weight_decay = 3e-4, label_smoothing = 0.1, drop_path = 0, aux_weight = 0.4;
  bool no_augment = false;
  std::string augment;  // JSON or @file: data::Augmentation's fields
  int64_t workers = -1;
  uint64_t seed = 0;
  std::string out;
  bool resume = false, overwrite = false, no_progress = false;
};

struct ExportArgs {
  std::string run, out;
  std::vector<std::string> formats{"torchscript", "onnx"};
  int64_t opset = 13;
  std::vector<std::string> tables;
  bool overwrite = false;
};

/// Trains and writes OUT/{arch.json, checkpoint/, weights.pt, train.json}; returns the
/// summary (null if Ctrl-C stopped it: exit code 130 is set).
nlohmann::json run_train(Context& ctx, const TrainArgs& args);
/// Writes RUN/export/{model.pt, model.onnx, model.json}; returns model.json's content.
nlohmann::json run_export(Context& ctx, const ExportArgs& args);

}  // namespace hwnas::cli

#pragma once
// hwnas train and hwnas export, shared with the quickstart.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "hwnas/export/onnx.h"
#include "hwnas/train/final_training.h"

namespace hwnas::cli {

struct TrainArgs {
  static inline const train::FinalTrainingOptions kRecipe{};
  SpaceArgs space;
  std::string arch, from_search, supernet;
  DataSourceArgs data;
  int64_t train_size = 0, test_size = 0;  // 0: the whole part
  // The recipe; defaults are the library's (train::FinalTrainingOptions).
  int64_t epochs = kRecipe.epochs(), steps_per_epoch = kRecipe.steps_per_epoch(), batch_size = kRecipe.batch_size();
  int64_t warmup_epochs = kRecipe.warmup_epochs();
  double lr = kRecipe.lr(), weight_decay = kRecipe.weight_decay(), label_smoothing = kRecipe.label_smoothing();
  double drop_path = kRecipe.drop_path(), aux_weight = kRecipe.auxiliary_weight();
  bool no_augment = !kRecipe.augment();
  std::string augment;  // JSON or @file: data::Augmentation's fields
  int64_t workers = kRecipe.workers();
  uint64_t seed = kRecipe.seed();
  std::string out;
  bool resume = false, overwrite = false, no_progress = false;
};

struct ExportArgs {
  std::string run, out;
  std::vector<std::string> formats{"torchscript", "onnx"};
  int64_t opset = exporting::OnnxOptions().opset();
  std::vector<std::string> tables;
  bool overwrite = false;
};

/// Trains and writes OUT/{arch.json, checkpoint/, weights.pt, train.json}; returns the
/// summary (null if Ctrl-C stopped it: exit code 130 is set).
nlohmann::json run_train(Context& ctx, const TrainArgs& args);
/// Writes RUN/export/{model.pt, model.onnx, model.json}; returns model.json's content.
nlohmann::json run_export(Context& ctx, const ExportArgs& args);

}  // namespace hwnas::cli

#pragma once
// Datasets by name: what `--data NAME --data-dir DIR --data-config JSON` and an experiment
// config's "data": {"name": ..., "dir": ..., "config": {...}} load. Built-ins:
// fashion-mnist, mnist (IDX files in any folder), cifar10, cifar100 (binary version),
// image-folder (root/<class>/*.png|jpg|...), npy (NumPy files) and synthetic; `hwnas datasets` lists them. A dataset of your own:
//
//   hwnas::data::register_dataset("my-data", "My sensor images", {
//       [](const nlohmann::json& config, const hwnas::data::DataRequest& request) {
//         return load_my_data(request.dir(), request.train(), request.limit());   // a Dataset
//       }});
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "hwnas/core/options.h"
#include "hwnas/core/registry.h"
#include "hwnas/data/dataset.h"

namespace hwnas::data {

/// What every dataset is asked for, e.g. DataRequest().dir("data/fmnist").train(false).limit(500).
struct DataRequest {
  /// The dataset's folder ("": its default).
  HWNAS_ARG(std::string, dir);
  /// The training part (searches use only this) or the test part.
  HWNAS_ARG(bool, train) = true;
  /// The first `limit` samples (0: all).
  HWNAS_ARG(int64_t, limit) = 0;
  /// For generated datasets and seeded subsets.
  HWNAS_ARG(uint64_t, seed) = 0;
  /// The test part: the training part's input contract (Dataset::input), whose
  /// normalisation a dataset that computes its statistics reuses. Null otherwise.
  HWNAS_ARG(nlohmann::json, train_input);
};

struct DatasetKind {
  /// Loads the requested part; `config` is the dataset's own options (--data-config), read
  /// with ConfigReader so unknown fields are errors. Throws DataError naming a bad file.
  std::function<Dataset(const nlohmann::json& config, const DataRequest& request)> load;
  /// Optional: the number of samples of the requested part (ignoring its limit) without
  /// decoding them. Without it, count_samples loads the part.
  std::function<int64_t(const nlohmann::json& config, const DataRequest& request)> count = nullptr;
};

using DatasetRegistry = Registry<DatasetKind>;

DatasetRegistry& dataset_registry();
void register_dataset(const std::string& name, const std::string& description, DatasetKind kind);

/// The part `request` asks for of dataset `name` with `config`; the result has at least
/// one sample and labels in [0, num_classes).
Dataset load_dataset(const std::string& name, const nlohmann::json& config, const DataRequest& request);

/// The number of samples of the part `request` asks for, ignoring its limit (a generated
/// dataset: the limit, which it needs).
int64_t count_samples(const std::string& name, const nlohmann::json& config, const DataRequest& request);

}  // namespace hwnas::data

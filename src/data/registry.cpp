#include "hwnas/data/registry.h"

#include <torch/torch.h>

#include <mutex>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/data/cifar.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/data/idx.h"
#include "hwnas/data/synthetic.h"

namespace hwnas::data {
namespace {

Dataset fashion_mnist(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "fashion-mnist data config");
  const bool normalize = r.get_bool("normalize", true);
  r.finish();
  return load_fashion_mnist(FashionMnistOptions().root(q.dir).train(q.train).limit(q.limit).normalize(normalize));
}

Dataset mnist(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "mnist data config");
  const bool normalize = r.get_bool("normalize", true);
  const auto classes = r.get_int("classes", 10, 2, 256);
  // MNIST's published training statistics; other IDX datasets give their own.
  const double mean = r.get_double("mean", 0.1307, -1e6, 1e6), std = r.get_double("std", 0.3081, 1e-8, 1e6);
  r.finish();
  HWNAS_CHECK_T(ConfigError, !q.dir.empty(), "the mnist dataset needs --data-dir (\"dir\"): the folder holding "
                "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
  return load_idx_dataset(IdxDatasetOptions()
                              .root(q.dir)
                              .train(q.train)
                              .limit(q.limit)
                              .classes(classes)
                              .normalize(normalize)
                              .mean(mean)
                              .std(std)
                              .name("mnist")
                              .hint("Give --data-dir (\"dir\") the folder holding "
                                    "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]"));
}

Dataset cifar(int64_t classes, const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "cifar" + std::to_string(classes) + " data config");
  const bool normalize = r.get_bool("normalize", true);
  const bool fine = classes == 100 ? r.get_string("labels", "fine", {"fine", "coarse"}) == "fine" : true;
  r.finish();
  HWNAS_CHECK_T(ConfigError, !q.dir.empty(), "the cifar", classes, " dataset needs --data-dir (\"dir\"): the folder of "
                "its binary version (", classes == 10 ? "cifar-10-batches-bin" : "cifar-100-binary", ")");
  return load_cifar(
      CifarOptions().root(q.dir).classes(classes).fine_labels(fine).train(q.train).limit(q.limit).normalize(normalize));
}

// Generated: class templates and samples from the seed. The test part shares the templates
// and draws its samples from another stream.
Dataset synthetic(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "synthetic data config");
  SyntheticOptions o;
  o.channels(r.get_int("channels", o.channels(), 1, 64));
  o.size(r.get_int("size", o.size(), 1, 1024));
  o.classes(r.get_int("classes", o.classes(), 2, 1000));
  o.noise(r.get_double("noise", o.noise(), 0, 100));
  r.finish();
  HWNAS_CHECK_T(ConfigError, q.limit > 0, "synthetic data has no size of its own: give the number of samples "
                "(--train-size / --test-size, \"train_size\")");
  return make_synthetic(o.samples(q.limit).seed(q.seed).test(!q.train));
}

void register_builtins(DatasetRegistry& registry) {
  const auto add = [&registry](const char* name, const char* description, DatasetKind kind) {
    registry.add(name, description, [kind](const nlohmann::json&) { return std::make_unique<DatasetKind>(kind); });
  };
  add("fashion-mnist", "Fashion-MNIST, 1x28x28, 10 classes (Debian's dataset-fashion-mnist by default)",
      {fashion_mnist});
  add("mnist", "MNIST-style IDX files in any folder ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])", {mnist});
  add("cifar10", "CIFAR-10, binary version (data_batch_*.bin, test_batch.bin), 3x32x32, 10 classes",
      {[](const nlohmann::json& c, const DataRequest& q) { return cifar(10, c, q); }});
  add("cifar100", "CIFAR-100, binary version (train.bin, test.bin), 3x32x32, 100 fine or 20 coarse classes",
      {[](const nlohmann::json& c, const DataRequest& q) { return cifar(100, c, q); }});
  add("synthetic", "Generated class templates plus noise (\"channels\", \"size\", \"classes\", \"noise\")", {synthetic});
}

}  // namespace

DatasetRegistry& dataset_registry() {
  static DatasetRegistry registry("dataset");
  static std::once_flag once;
  std::call_once(once, [] { register_builtins(registry); });
  return registry;
}

void register_dataset(const std::string& name, const std::string& description, DatasetKind kind) {
  HWNAS_CHECK_T(ConfigError, static_cast<bool>(kind.load), "Registering dataset '", name, "' without a load function");
  dataset_registry().add(name, description, [kind](const nlohmann::json&) { return std::make_unique<DatasetKind>(kind); });
}

Dataset load_dataset(const std::string& name, const nlohmann::json& config, const DataRequest& request) {
  HWNAS_CHECK_T(ConfigError, config.is_object() || config.is_null(), "The config of dataset '", name,
                "' must be a JSON object, but got: ", config.dump());
  HWNAS_CHECK_T(ConfigError, request.limit >= 0, "Expected a non-negative number of samples, but got ", request.limit);
  const auto kind = dataset_registry().shared(name);
  auto d = kind->load(config.is_null() ? nlohmann::json::object() : config, request);
  HWNAS_CHECK_T(DataError, d.size() > 0, "dataset '", name, "' (", request.dir.empty() ? "default folder" : request.dir,
                ") has no ", request.train ? "training" : "test", " samples");
  HWNAS_CHECK_T(DataError, d.images.dim() == 4 && d.labels.dim() == 1 && d.labels.size(0) == d.size() && d.num_classes >= 2,
                "dataset '", name, "' gave images of shape ", d.images.sizes(), " and labels of shape ",
                d.labels.sizes(), " with ", d.num_classes, " classes; expected N x C x H x W, N and at least 2");
  const auto lo = d.labels.min().item<int64_t>(), hi = d.labels.max().item<int64_t>();
  HWNAS_CHECK_T(DataError, lo >= 0 && hi < d.num_classes, "dataset '", name, "' has labels ", lo, "..", hi,
                " for ", d.num_classes, " classes");
  return d;
}

}  // namespace hwnas::data

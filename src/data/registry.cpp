#include "hwnas/data/registry.h"

#include <torch/torch.h>

#include <filesystem>
#include <mutex>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/data/cifar.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/data/idx.h"
#include "hwnas/data/npy.h"
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

// {train,test}_{images,labels}.npy: images N x C x H x W (or N x H x W, one channel),
// uint8 scaled to [0, 1] or floating point as they are; labels N whole numbers.
Dataset npy(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "npy data config");
  const auto classes = r.get_int("classes", 0, 0, 1000000);
  r.finish();
  HWNAS_CHECK_T(ConfigError, !q.dir.empty(), "the npy dataset needs --data-dir (\"dir\"): the folder holding "
                "{train,test}_{images,labels}.npy");
  const auto file = [&](const std::string& part, const std::string& what) {
    return (std::filesystem::path(q.dir) / (part + "_" + what + ".npy")).string();
  };
  const std::string part = q.train ? "train" : "test";
  const auto images_path = file(part, "images"), labels_path = file(part, "labels");
  const auto ih = read_npy_header(images_path), lh = read_npy_header(labels_path);
  HWNAS_CHECK_T(DataError, ih.shape.size() == 3 || ih.shape.size() == 4, "NumPy file '", images_path, "' has ",
                ih.shape.size(), " dimensions; images are N x C x H x W or N x H x W");
  HWNAS_CHECK_T(DataError, ih.dtype == "u1" || ih.dtype[0] == 'f', "NumPy file '", images_path, "' holds '", ih.dtype,
                "' values; images are uint8 (0-255) or floating point (convert with array.astype)");
  HWNAS_CHECK_T(DataError, lh.shape.size() == 1 && lh.dtype[0] != 'f' && lh.dtype != "b1", "NumPy file '", labels_path,
                "' must hold N whole-number labels (one dimension, an integer type)");
  HWNAS_CHECK_T(DataError, ih.shape[0] == lh.shape[0], "'", images_path, "' holds ", ih.shape[0], " images but '",
                labels_path, "' holds ", lh.shape[0], " labels; give one label per image");
  auto images = load_npy(images_path, q.limit);
  if (images.dim() == 3) images = images.unsqueeze(1);
  images = ih.dtype == "u1" ? images.to(torch::kFloat32).div_(255.0) : images.to(torch::kFloat32);
  const auto labels = load_npy(labels_path, q.limit).to(torch::kLong);
  // The class count: given, or from the training labels (so both parts agree).
  int64_t n_classes = classes;
  if (n_classes == 0) {
    const auto train_labels = q.train ? labels : load_npy(file("train", "labels")).to(torch::kLong);
    n_classes = train_labels.numel() > 0 ? train_labels.max().item<int64_t>() + 1 : 0;
  }
  if (labels.numel() > 0) {
    const auto lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    HWNAS_CHECK_T(DataError, lo >= 0 && hi < n_classes, "NumPy file '", labels_path, "' has labels ", lo, "..", hi,
                  "; labels are 0..", n_classes - 1, classes ? " (\"classes\" in --data-config)" : " (from the training labels)");
  }
  return Dataset{images, labels, n_classes, "npy/" + part};
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
  add("npy", "NumPy files {train,test}_{images,labels}.npy (images N x C x H x W or N x H x W, uint8 or float), "
      "memory-mapped", {npy});
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

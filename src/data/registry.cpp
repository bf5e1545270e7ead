#include "hwnas/data/registry.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>

#include "hwnas/core/config.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json_number.h"
#include "hwnas/data/cifar.h"
#include "hwnas/data/fashion_mnist.h"
#include "hwnas/data/idx.h"
#include "hwnas/data/image_folder.h"
#include "hwnas/data/npy.h"
#include "hwnas/data/synthetic.h"
#include "hwnas/data/tensor_file.h"

namespace hwnas::data {
namespace {

Dataset fashion_mnist(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "fashion-mnist data config");
  const bool normalize = r.get_bool("normalize", true);
  r.finish();
  return load_fashion_mnist(FashionMnistOptions().root(q.dir()).train(q.train()).limit(q.limit()).normalize(normalize));
}

Dataset mnist(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "mnist data config");
  const bool normalize = r.get_bool("normalize", true);
  const auto classes = r.get_int("classes", 10, 2, 256);
  // MNIST's published training statistics; other IDX datasets give their own.
  const double mean = r.get_double("mean", 0.1307, -1e6, 1e6), std = r.get_double("std", 0.3081, 1e-8, 1e6);
  r.finish();
  HWNAS_CHECK_T(ConfigError, !q.dir().empty(), "the mnist dataset needs --data-dir (\"dir\"): the folder holding "
                "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
  return load_idx_dataset(IdxDatasetOptions()
                              .root(q.dir())
                              .train(q.train())
                              .limit(q.limit())
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
  HWNAS_CHECK_T(ConfigError, !q.dir().empty(), "the cifar", classes, " dataset needs --data-dir (\"dir\"): the folder of "
                "its binary version (", classes == 10 ? "cifar-10-batches-bin" : "cifar-100-binary", ")");
  return load_cifar(
      CifarOptions().root(q.dir()).classes(classes).fine_labels(fine).train(q.train()).limit(q.limit()).normalize(normalize));
}

ImageFolderOptions image_folder_options(const nlohmann::json& config) {
  ConfigReader r(config, "image-folder data config");
  ImageFolderOptions o;
  o.channels(r.get_int("channels", o.channels(), 1, 3));
  o.size(r.get_int("size", o.size(), 1, 4096));
  o.resize(r.get_string("resize", o.resize(), {"stretch", "crop"}));
  o.interpolation(r.get_string("interpolation", o.interpolation(), {"area", "linear", "cubic", "nearest"}));
  o.convert(r.get_bool("convert", o.convert()));
  o.skip_bad_images(r.get_bool("skip_bad_images", o.skip_bad_images()));
  o.threads(r.get_int("threads", o.threads(), 0, 256));
  o.cache(r.get_string("cache", o.cache(), {"auto", "memory", "stream"}));
  o.cache_bytes(r.get_int("cache_bytes", o.cache_bytes(), 0, std::numeric_limits<int64_t>::max()));
  o.stats_samples(r.get_int("stats_samples", o.stats_samples(), 1, 100000000));
  // "normalize": true (statistics of the training samples loaded), false, or {"mean", "std"}.
  const auto normalize = r.get_json("normalize", true);
  r.finish();
  HWNAS_CHECK_T(ConfigError, normalize.is_boolean() || normalize.is_object(), "image-folder data config: \"normalize\" is ",
                normalize.dump(), "; give true (statistics of the training images), false, or {\"mean\": [...], \"std\": [...]}");
  if (normalize.is_object()) {
    ConfigReader n(normalize, "image-folder data config \"normalize\"");
    const auto list = [&](const char* key) {
      const auto v = n.get_json(key, nullptr);
      HWNAS_CHECK_T(ConfigError, v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const auto& x) { return x.is_number(); }),
                    "image-folder data config \"normalize\": \"", key, "\" must be a list of numbers, one per channel");
      return v.get<std::vector<double>>();
    };
    o.mean(list("mean")).std(list("std"));
    n.finish();
  } else {
    o.normalize(normalize.get<bool>());
  }
  o.validate();
  return o;
}

Dataset image_folder(const nlohmann::json& config, const DataRequest& q) {
  auto o = image_folder_options(config);
  // The test part is normalised with the training part's statistics.
  if (!q.train() && o.normalize() && o.mean().empty() && q.train_input().is_object() &&
      q.train_input().value("normalize", nlohmann::json()).is_object()) {
    const auto& n = q.train_input().at("normalize");
    o.mean(n.at("mean").get<std::vector<double>>()).std(n.at("std").get<std::vector<double>>());
  }
  HWNAS_CHECK_T(ConfigError, !q.dir().empty(), "the image-folder dataset needs --data-dir (\"dir\"): the folder holding "
                "<class>/ subfolders of images (or train/<class>/ and test/<class>/)");
  return load_image_folder(o.root(q.dir()).train(q.train()).limit(q.limit()).seed(q.seed()));
}

// {train,test}_{images,labels}.npy: images N x C x H x W (or N x H x W, one channel),
// uint8 scaled to [0, 1] or floating point as they are; labels N whole numbers.
Dataset npy(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "npy data config");
  const auto classes = r.get_int("classes", 0, 0, 1000000);
  r.finish();
  HWNAS_CHECK_T(ConfigError, !q.dir().empty(), "the npy dataset needs --data-dir (\"dir\"): the folder holding "
                "{train,test}_{images,labels}.npy");
  const auto file = [&](const std::string& part, const std::string& what) {
    return (std::filesystem::path(q.dir()) / (part + "_" + what + ".npy")).string();
  };
  const std::string part = q.train() ? "train" : "test";
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
  auto images = load_npy(images_path, q.limit());
  if (images.dim() == 3) images = images.unsqueeze(1);
  images = ih.dtype == "u1" ? images.to(torch::kFloat32).div_(255.0) : images.to(torch::kFloat32);
  const auto labels = load_npy(labels_path, q.limit()).to(torch::kLong);
  // The class count: given, or from the training labels (so both parts agree).
  int64_t n_classes = classes;
  if (n_classes == 0) {
    const auto train_labels = q.train() ? labels : load_npy(file("train", "labels")).to(torch::kLong);
    n_classes = train_labels.numel() > 0 ? train_labels.max().item<int64_t>() + 1 : 0;
  }
  if (labels.numel() > 0) {
    const auto lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    HWNAS_CHECK_T(DataError, lo >= 0 && hi < n_classes, "NumPy file '", labels_path, "' has labels ", lo, "..", hi,
                  "; labels are 0..", n_classes - 1, classes ? " (\"classes\" in --data-config)" : " (from the training labels)");
  }
  Dataset d{images, labels, n_classes, "npy/" + part};
  d.input = input_contract(images, ih.dtype == "u1" ? "uint8 values 0..255 of the .npy file" : "values of the .npy file as float32",
                           ih.dtype == "u1" ? 255 : 1, {}, {});
  return d;
}

// train.pt and test.pt as torch.save writes them; the class count is given or comes from
// the training labels (so both parts agree).
Dataset tensors(const nlohmann::json& config, const DataRequest& q) {
  ConfigReader r(config, "tensors data config");
  TensorFileOptions o;
  o.classes(r.get_int("classes", 0, 0, 1000000));
  o.max_bytes(r.get_int("max_bytes", o.max_bytes(), 1, std::numeric_limits<int64_t>::max()));
  r.finish();
  HWNAS_CHECK_T(ConfigError, !q.dir().empty(), "the tensors dataset needs --data-dir (\"dir\"): the folder holding "
                "train.pt and test.pt (torch.save({\"images\": ..., \"labels\": ...}))");
  const auto file = [&](const char* part) { return (std::filesystem::path(q.dir()) / part).string(); };
  if (o.classes() == 0 && !q.train()) {
    // The training part's count: carried in its input contract, else read from train.pt.
    const auto carried = q.train_input().is_object() ? q.train_input().value("num_classes", nlohmann::json()) : nlohmann::json();
    o.classes(carried.is_number_integer() ? json_integer<int64_t>(carried, "the training part's \"num_classes\"")
                                          : load_tensor_file(TensorFileOptions(o).path(file("train.pt"))).num_classes);
  }
  auto d = load_tensor_file(o.path(file(q.train() ? "train.pt" : "test.pt")).limit(q.limit()));
  d.name = std::string("tensors/") + (q.train() ? "train" : "test");
  if (d.input.is_object()) d.input["num_classes"] = d.num_classes;
  return d;
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
  HWNAS_CHECK_T(ConfigError, q.limit() > 0, "synthetic data has no size of its own: give the number of samples "
                "(--train-size / --test-size, \"train_size\")");
  return make_synthetic(o.samples(q.limit()).seed(q.seed()).test(!q.train()));
}

void register_builtins(DatasetRegistry& registry) {
  const auto add = [&registry](const char* name, const char* description, DatasetKind kind) {
    registry.add_value(name, description, std::move(kind));
  };
  add("fashion-mnist", "Fashion-MNIST, 1x28x28, 10 classes (Debian's dataset-fashion-mnist by default)",
      {fashion_mnist});
  add("mnist", "MNIST-style IDX files in any folder ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])", {mnist});
  add("cifar10", "CIFAR-10, binary version (data_batch_*.bin, test_batch.bin), 3x32x32, 10 classes",
      {[](const nlohmann::json& c, const DataRequest& q) { return cifar(10, c, q); }});
  add("cifar100", "CIFAR-100, binary version (train.bin, test.bin), 3x32x32, 100 fine or 20 coarse classes",
      {[](const nlohmann::json& c, const DataRequest& q) { return cifar(100, c, q); }});
  add("image-folder", "Images in class folders, root/<class>/*.{png,jpg,jpeg,bmp,webp} (torchvision's ImageFolder; "
      "root/train/ and root/test/ for a test part), decoded with OpenCV (\"channels\", \"size\", \"resize\", ...)",
      {image_folder, [](const nlohmann::json& c, const DataRequest& q) {
         image_folder_options(c);  // the config is checked as loading would
         HWNAS_CHECK_T(ConfigError, !q.dir().empty(), "the image-folder dataset needs --data-dir (\"dir\")");
         return static_cast<int64_t>(scan_image_folder(q.dir(), q.train()).files.size());
       }});
  add("tensors", "torch.save files train.pt and test.pt holding {\"images\": N x C x H x W, \"labels\": N} "
      "(uint8 or float images), read whole (\"max_bytes\", 4 GiB)", {tensors});
  add("npy", "NumPy files {train,test}_{images,labels}.npy (images N x C x H x W or N x H x W, uint8 or float), "
      "memory-mapped", {npy});
  add("synthetic", "Generated class templates plus noise (\"channels\", \"size\", \"classes\", \"noise\")",
      {synthetic, [](const nlohmann::json&, const DataRequest& q) {
         HWNAS_CHECK_T(ConfigError, q.limit() > 0, "synthetic data has no size of its own: give the number of samples");
         return q.limit();
       }});
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
  dataset_registry().add_value(name, description, std::move(kind));
}

Dataset load_dataset(const std::string& name, const nlohmann::json& config, const DataRequest& request) {
  HWNAS_CHECK_T(ConfigError, config.is_object() || config.is_null(), "The config of dataset '", name,
                "' must be a JSON object, but got: ", config.dump());
  HWNAS_CHECK_T(ConfigError, request.limit() >= 0, "Expected a non-negative number of samples, but got ", request.limit());
  const auto kind = dataset_registry().shared(name);
  auto d = kind->load(config.is_null() ? nlohmann::json::object() : config, request);
  HWNAS_CHECK_T(DataError, d.size() > 0, "dataset '", name, "' (", request.dir().empty() ? "default folder" : request.dir(),
                ") has no ", request.train() ? "training" : "test", " samples");
  HWNAS_CHECK_T(DataError, (d.is_streamed() || d.images.dim() == 4) && d.labels.dim() == 1 && d.labels.size(0) == d.size() &&
                               d.num_classes >= 2,
                "dataset '", name, "' gave images of shape ", d.is_streamed() ? c10::IntArrayRef(d.sample_shape()) : d.images.sizes(),
                " and labels of shape ", d.labels.sizes(), " with ", d.num_classes,
                " classes; expected N x C x H x W, N and at least 2");
  const auto lo = d.labels.min().item<int64_t>(), hi = d.labels.max().item<int64_t>();
  HWNAS_CHECK_T(DataError, lo >= 0 && hi < d.num_classes, "dataset '", name, "' has labels ", lo, "..", hi,
                " for ", d.num_classes, " classes");
  return d;
}

int64_t count_samples(const std::string& name, const nlohmann::json& config, const DataRequest& request) {
  const auto kind = dataset_registry().shared(name);
  const auto c = config.is_null() ? nlohmann::json::object() : config;
  if (kind->count) return kind->count(c, request);
  auto whole = request;
  whole.limit(0);
  return load_dataset(name, c, whole).size();
}

}  // namespace hwnas::data

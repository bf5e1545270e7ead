#include "hwnas/data/tensor_file.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include "data/torch_file.h"

#include <filesystem>
#include <fstream>

#include "hwnas/core/error.h"
#include "hwnas/core/io.h"

namespace hwnas::data {
namespace {

constexpr const char* kForm = "save it with torch.save({\"images\": N x C x H x W tensor, \"labels\": N tensor}, path)";

torch::Tensor entry(const detail::TorchFile& file, const char* key, const std::string& path) {
  const auto other = file.others.find(key);
  HWNAS_CHECK_T(DataError, other == file.others.end(), "tensor file '", path, "': \"", key, "\" is a ", other->second,
                ", not a tensor; ", kForm);
  const auto it = file.tensors.find(key);
  HWNAS_CHECK_T(DataError, it != file.tensors.end(), "tensor file '", path, "' has no \"", key, "\"; ", kForm);
  return it->second;
}

}  // namespace

Dataset load_tensor_file(const TensorFileOptions& o) {
  const auto& path = o.path();
  HWNAS_CHECK_T(ConfigError, o.limit() >= 0 && o.classes() >= 0 && o.max_bytes() > 0, "tensor file options: limit ",
                o.limit(), ", classes ", o.classes(), ", max_bytes ", o.max_bytes(), "; give non-negative numbers");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  HWNAS_CHECK_T(DataError, !ec, "tensor file '", path, "' is missing or unreadable; set the data dir (--data-dir) to the folder holding "
                "train.pt and test.pt");
  HWNAS_CHECK_T(DataError, static_cast<int64_t>(size) <= o.max_bytes(), "tensor file '", path, "' holds ", size,
                " bytes, more than the ", o.max_bytes(), " a tensor file may (it is read whole into memory); use npy "
                "files (memory-mapped) or set \"max_bytes\" higher");
  std::string bytes(size, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  HWNAS_CHECK_T(DataError, in.gcount() == static_cast<std::streamsize>(size), "tensor file '", path,
                "' could not be read whole");
  const auto file = detail::read_torch_file(bytes, path);
  bytes.clear();
  bytes.shrink_to_fit();
  auto images = entry(file, "images", path), labels = entry(file, "labels", path);
  HWNAS_CHECK_T(DataError, images.dim() == 3 || images.dim() == 4, "tensor file '", path, "': \"images\" has shape ",
                images.sizes(), "; images are N x C x H x W or N x H x W");
  HWNAS_CHECK_T(DataError, images.scalar_type() == torch::kUInt8 || images.is_floating_point(), "tensor file '", path,
                "': \"images\" are ", images.scalar_type(), "; give uint8 (0-255) or floating-point images (convert with .to())");
  HWNAS_CHECK_T(DataError, labels.dim() == 1 && !labels.is_floating_point() && !labels.is_complex() &&
                               labels.scalar_type() != torch::kBool,
                "tensor file '", path, "': \"labels\" must be N whole numbers (one dimension, an integer type), not ",
                labels.scalar_type(), " of shape ", labels.sizes());
  HWNAS_CHECK_T(DataError, images.size(0) == labels.size(0), "tensor file '", path, "' has ", images.size(0),
                " images but ", labels.size(0), " labels; give one label per image");
  if (images.dim() == 3) images = images.unsqueeze(1);
  const int64_t n = o.limit() > 0 ? std::min(o.limit(), images.size(0)) : images.size(0);
  const bool bytes_in = images.scalar_type() == torch::kUInt8;
  auto x = images.slice(0, 0, n).to(torch::kFloat32).contiguous();
  if (bytes_in) x.div_(255.0);
  HWNAS_CHECK_T(DataError, x.isfinite().all().item<bool>(), "tensor file '", path,
                "': \"images\" hold NaN or infinite values; fix the data");
  const auto y = labels.slice(0, 0, n).to(torch::kLong).contiguous();
  int64_t classes = o.classes();
  if (classes == 0 && labels.numel() > 0) classes = labels.max().item<int64_t>() + 1;
  if (y.numel() > 0) {
    const auto lo = y.min().item<int64_t>(), hi = y.max().item<int64_t>();
    HWNAS_CHECK_T(DataError, lo >= 0 && hi < classes, "tensor file '", path, "' has labels ", lo, "..", hi,
                  "; labels are 0..", classes - 1, o.classes() ? " (\"classes\")" : " (from the largest label)");
  }
  Dataset d(x, y, classes, std::filesystem::path(path).stem().string());
  d.input = input_contract(x, bytes_in ? "uint8 values 0..255 of the tensor file" : "values of the tensor file as float32",
                           bytes_in ? 255 : 1, {}, {});
  return d;
}

void save_tensor_file(const std::string& path, const at::Tensor& images, const at::Tensor& labels) {
  HWNAS_CHECK_T(ConfigError, images.size(0) == labels.size(0), "save_tensor_file: ", images.size(0), " images but ",
                labels.size(0), " labels");
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("images", images.contiguous());
  dict.insert("labels", labels.to(torch::kLong).contiguous());
  const auto bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace hwnas::data

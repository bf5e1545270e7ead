#pragma once
// hwnas's archive files: weights, supernet weights and every checkpoint. A file is one
// header line and a payload of named tensors and strings in hwnas's own plain format, so
// no LibTorch reader (its zip, pickle and TorchScript parsers) ever sees a file's bytes:
//   hwnas-archive 1 <kind> <payload bytes> <FNV-1a 64 of the payload, 16 hex digits>\n
//   then entries to the end, each:
//     u8 tag (1 tensor, 2 string), u32 name length, name,
//     tensor: u8 dtype, u8 rank, rank x i64 sizes, u64 byte count, the bytes (row-major)
//     string: u64 byte count, the bytes
//   (integers little-endian). A truncated, damaged or mistaken file (another kind, not
// hwnas's) is refused by the header; a payload is parsed with every length checked
// against what is left, so a file that passes the checksum cannot make hwnas read or
// allocate beyond it.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace hwnas::detail {

/// Kinds shared by a writer and a reader in different areas.
constexpr const char* kSupernetWeightsKind = "supernet-weights-file";  // train-supernet's output

/// Named tensors (CPU, contiguous copies) and strings, in the order they were put.
class TensorArchive {
 public:
  void put(const std::string& name, const torch::Tensor& tensor);
  void put_string(const std::string& name, const std::string& value);
  void put_int(const std::string& name, int64_t value) { put(name, torch::tensor(value, torch::kInt64)); }
  void put_double(const std::string& name, double value) { put(name, torch::tensor(value, torch::kFloat64)); }
  /// Every defined parameter and buffer of `module` (dotted names) under `prefix`.
  void put_module(const std::string& prefix, const torch::nn::Module& module);

  /// Null when there is no such entry (or it is of the other type).
  const torch::Tensor* tensor(const std::string& name) const;
  const std::string* string(const std::string& name) const;
  /// The 0-dimensional int64 / float64 tensor `name`; false when absent or of another type.
  bool get_int(const std::string& name, int64_t& out) const;
  bool get_double(const std::string& name, double& out) const;
  /// Copies the entries under `prefix` into `module`'s parameters and buffers; throws
  /// DataError naming `path` and the first tensor missing or of another shape or type
  /// ("saved for another architecture or configuration").
  void load_module(const std::string& prefix, torch::nn::Module& module, const std::string& path) const;

  /// The payload bytes, and back (DataError naming `path` on any malformed entry).
  std::string serialize() const;
  static TensorArchive parse(std::string_view payload, const std::string& path);

 private:
  std::vector<std::string> order_;
  std::map<std::string, torch::Tensor> tensors_;
  std::map<std::string, std::string> strings_;
};

/// The header line (with its newline) of a file of `kind` holding `payload`. `kind` is a
/// word or hyphenated words, named in messages with spaces ("training-checkpoint").
std::string archive_header(const std::string& kind, std::string_view payload);
/// The bytes of an archive file of `kind`.
std::string archive_file_bytes(const TensorArchive& archive, const std::string& kind);
/// Writes the archive to `path` atomically (write_file_atomic).
void save_archive(const TensorArchive& archive, const std::string& kind, const std::string& path);

/// Checks the header, size and checksum of the file `path` and parses it. Throws DataError
/// naming the path, what is wrong and `fix` (what the user can do).
TensorArchive load_archive(const std::string& kind, const std::string& path, const std::string& fix);
/// The same for a file's bytes already in memory; `path` names them in errors.
TensorArchive archive_from_bytes(std::string_view bytes, const std::string& kind, const std::string& path,
                                 const std::string& fix);

}  // namespace hwnas::detail

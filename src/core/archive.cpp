#include "core/archive.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "core/fnv1a.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hwnas archive files are written little-endian; this host is not"
#endif

namespace hwnas::detail {
namespace {

constexpr std::string_view kMagic = "hwnas-archive";
constexpr int kVersion = 1;
constexpr size_t kMaxHeader = 160;  // the header line is far shorter
constexpr size_t kMaxName = 4096;
constexpr int kMaxRank = 16;
constexpr uint8_t kTensorTag = 1, kStringTag = 2;

// The element types an archive holds, by their code in the file.
constexpr std::pair<uint8_t, c10::ScalarType> kTypes[] = {
    {1, torch::kFloat32}, {2, torch::kFloat64}, {3, torch::kInt64}, {4, torch::kInt32},   {5, torch::kUInt8},
    {6, torch::kInt8},    {7, torch::kBool},    {8, torch::kFloat16}, {9, torch::kBFloat16}, {10, torch::kInt16}};

uint8_t type_code(c10::ScalarType t) {
  for (const auto& [code, type] : kTypes)
    if (type == t) return code;
  throw InternalError(fmt::format("hwnas archive files do not hold {} tensors", c10::toString(t)));
}

// "training-checkpoint" -> "training checkpoint".
std::string display(std::string kind) {
  for (auto& c : kind)
    if (c == '-') c = ' ';
  return kind;
}

template <typename T>
void append(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads the payload front to back; every read is checked against what is left.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& path) : bytes_(bytes), path_(path) {}
  bool done() const { return at_ == bytes_.size(); }
  template <typename T>
  T take(const char* what) {
    T v;
    std::memcpy(&v, take_bytes(sizeof v, what).data(), sizeof v);
    return v;
  }
  std::string_view take_bytes(uint64_t n, const char* what) {
    if (n > bytes_.size() - at_) fail(fmt::format("its {} at byte {} runs past the end", what, at_));
    const auto out = bytes_.substr(at_, static_cast<size_t>(n));
    at_ += static_cast<size_t>(n);
    return out;
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw DataError(fmt::format("The archive '{}' is malformed: {}; it was not written by hwnas or was altered",
                                path_, why));
  }

 private:
  std::string_view bytes_;
  size_t at_ = 0;
  const std::string& path_;
};

bool split_header(std::string_view line, std::string (&fields)[5]) {
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i < line.size() && line[i] != ' ') continue;
    if (i == start || n == 5) return false;
    fields[n++] = std::string(line.substr(start, i - start));
    start = i + 1;
  }
  return n == 5;
}

bool parse_u64(const std::string& s, int base, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (const char c : s) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (d < 0 || v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

// The payload of the file's bytes after its header checks out.
std::string_view checked_payload(std::string_view bytes, const std::string& kind, const std::string& path,
                                 const std::string& fix) {
  const auto refuse = [&](const std::string& why) {
    return DataError(fmt::format("The {} '{}' {}; {}", display(kind), path, why, fix));
  };
  const auto eol = bytes.substr(0, kMaxHeader).find('\n');
  std::string f[5];
  if (bytes.substr(0, kMagic.size()) != kMagic || eol == std::string_view::npos || !split_header(bytes.substr(0, eol), f))
    throw refuse(bytes.empty() ? "is empty" : "is not an hwnas archive file (no hwnas-archive header)");
  uint64_t version = 0, size = 0, sum = 0;
  if (!parse_u64(f[1], 10, version) || !parse_u64(f[3], 10, size) || f[4].size() != 16 || !parse_u64(f[4], 16, sum))
    throw refuse("has a damaged header line");
  if (version != kVersion)
    throw refuse(fmt::format("has archive version {}, this hwnas reads version {}", f[1], kVersion));
  if (f[2] != kind) throw refuse(fmt::format("holds a {}, not a {}", display(f[2]), display(kind)));
  const auto payload = bytes.substr(eol + 1);
  if (payload.size() != size)
    throw refuse(fmt::format("is {} bytes long where its header says {}: it was truncated or appended to",
                             payload.size(), size));
  if (fnv1a(payload.data(), payload.size()) != sum)
    throw refuse("is damaged: its bytes do not match the checksum in its header");
  return payload;
}

}  // namespace

void TensorArchive::put(const std::string& name, const torch::Tensor& tensor) {
  HWNAS_INTERNAL_ASSERT(tensor.defined() && !name.empty() && name.size() <= kMaxName && !tensors_.count(name) &&
                            !strings_.count(name),
                        "archive entry '", name, "' undefined or put twice");
  (void)type_code(tensor.scalar_type());
  order_.push_back(name);
  tensors_[name] = tensor.detach().cpu().contiguous().clone();
}

void TensorArchive::put_string(const std::string& name, const std::string& value) {
  HWNAS_INTERNAL_ASSERT(!name.empty() && name.size() <= kMaxName && !tensors_.count(name) && !strings_.count(name),
                        "archive entry '", name, "' put twice");
  order_.push_back(name);
  strings_[name] = value;
}

void TensorArchive::put_module(const std::string& prefix, const torch::nn::Module& module) {
  for (const auto& p : module.named_parameters())
    if (p.value().defined()) put(prefix + p.key(), p.value());
  for (const auto& b : module.named_buffers())
    if (b.value().defined()) put(prefix + b.key(), b.value());
}

const torch::Tensor* TensorArchive::tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const std::string* TensorArchive::string(const std::string& name) const {
  const auto it = strings_.find(name);
  return it == strings_.end() ? nullptr : &it->second;
}

bool TensorArchive::get_int(const std::string& name, int64_t& out) const {
  const auto* t = tensor(name);
  if (!t || t->dim() != 0 || t->scalar_type() != torch::kInt64) return false;
  out = t->item<int64_t>();
  return true;
}

bool TensorArchive::get_double(const std::string& name, double& out) const {
  const auto* t = tensor(name);
  if (!t || t->dim() != 0 || t->scalar_type() != torch::kFloat64) return false;
  out = t->item<double>();
  return true;
}

void TensorArchive::load_module(const std::string& prefix, torch::nn::Module& module, const std::string& path) const {
  torch::NoGradGuard no_grad;
  const auto load = [&](const std::string& name, torch::Tensor& target) {
    if (!target.defined()) return;
    const auto* stored = tensor(prefix + name);
    HWNAS_CHECK_T(DataError, stored != nullptr, "The file '", path, "' has no '", prefix + name,
                  "': it was saved for another architecture or space configuration");
    HWNAS_CHECK_T(DataError, stored->sizes() == target.sizes() && stored->scalar_type() == target.scalar_type(),
                  "The file '", path, "' stores '", prefix + name, "' with shape ", stored->sizes(), " (",
                  stored->scalar_type(), ") but the network's is ", target.sizes(), " (", target.scalar_type(),
                  "): it was saved for another architecture or space configuration");
  };
  // Every tensor is checked before any is copied: a refused file leaves the module as it was.
  for (auto& p : module.named_parameters()) load(p.key(), p.value());
  for (auto& b : module.named_buffers()) load(b.key(), b.value());
  for (auto& p : module.named_parameters())
    if (p.value().defined()) p.value().copy_(*tensor(prefix + p.key()));
  for (auto& b : module.named_buffers())
    if (b.value().defined()) b.value().copy_(*tensor(prefix + b.key()));
}

std::string TensorArchive::serialize() const {
  std::string out;
  for (const auto& name : order_) {
    const auto t = tensors_.find(name);
    append<uint8_t>(out, t != tensors_.end() ? kTensorTag : kStringTag);
    append<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out += name;
    if (t == tensors_.end()) {
      const auto& s = strings_.at(name);
      append<uint64_t>(out, s.size());
      out += s;
      continue;
    }
    const auto& x = t->second;
    append<uint8_t>(out, type_code(x.scalar_type()));
    append<uint8_t>(out, static_cast<uint8_t>(x.dim()));
    for (const auto s : x.sizes()) append<int64_t>(out, s);
    const auto n = static_cast<uint64_t>(x.numel()) * x.element_size();
    append<uint64_t>(out, n);
    out.append(static_cast<const char*>(x.data_ptr()), static_cast<size_t>(n));
  }
  return out;
}

TensorArchive TensorArchive::parse(std::string_view payload, const std::string& path) {
  TensorArchive a;
  Reader r(payload, path);
  while (!r.done()) {
    const auto tag = r.take<uint8_t>("entry tag");
    if (tag != kTensorTag && tag != kStringTag) r.fail(fmt::format("an entry has the unknown tag {}", tag));
    const auto name_size = r.take<uint32_t>("name length");
    if (name_size == 0 || name_size > kMaxName) r.fail(fmt::format("an entry name is {} bytes long", name_size));
    const std::string name(r.take_bytes(name_size, "entry name"));
    if (a.tensors_.count(name) || a.strings_.count(name)) r.fail(fmt::format("the entry '{}' appears twice", name));
    if (tag == kStringTag) {
      a.order_.push_back(name);
      a.strings_[name] = std::string(r.take_bytes(r.take<uint64_t>("string length"), "string"));
      continue;
    }
    const auto code = r.take<uint8_t>("element type");
    c10::ScalarType type = torch::kFloat32;
    bool known = false;
    for (const auto& [c, t] : kTypes)
      if (c == code) type = t, known = true;
    if (!known) r.fail(fmt::format("the tensor '{}' has the unknown element type {}", name, code));
    const auto rank = r.take<uint8_t>("rank");
    if (rank > kMaxRank) r.fail(fmt::format("the tensor '{}' has {} dimensions", name, rank));
    std::vector<int64_t> sizes;
    uint64_t numel = 1, extent = 1;  // extent: the product of the sizes, a 0 counted as 1
    for (int d = 0; d < rank; ++d) {
      const auto s = r.take<int64_t>("tensor size");
      // No size (and no product of sizes, whose strides LibTorch computes) beyond the
      // file's length: checked before each multiplication, so nothing overflows.
      const auto f = static_cast<uint64_t>(std::max<int64_t>(s, 1));
      if (s < 0 || extent > payload.size() / f)
        r.fail(fmt::format("the tensor '{}' has the size {} (dimension {}), more than the file holds", name, s, d));
      sizes.push_back(s);
      extent *= f;
      numel *= static_cast<uint64_t>(s);
    }
    const auto item = static_cast<uint64_t>(c10::elementSize(type));
    const auto bytes = r.take<uint64_t>("byte count");
    if (bytes != numel * item)
      r.fail(fmt::format("the tensor '{}' has {} bytes for {} elements of {} bytes", name, bytes, numel, item));
    const auto data = r.take_bytes(bytes, "tensor data");
    if (type == torch::kBool)
      for (const char c : data)
        if (c != 0 && c != 1) r.fail(fmt::format("the bool tensor '{}' holds a value other than 0 and 1", name));
    auto t = torch::empty(sizes, torch::TensorOptions().dtype(type));
    if (bytes > 0) std::memcpy(t.data_ptr(), data.data(), static_cast<size_t>(bytes));
    a.order_.push_back(name);
    a.tensors_[name] = std::move(t);
  }
  return a;
}

std::string archive_header(const std::string& kind, std::string_view payload) {
  return fmt::format("{} {} {} {} {:016x}\n", kMagic, kVersion, kind, payload.size(),
                     fnv1a(payload.data(), payload.size()));
}

std::string archive_file_bytes(const TensorArchive& archive, const std::string& kind) {
  const auto payload = archive.serialize();
  return archive_header(kind, payload) + payload;
}

void save_archive(const TensorArchive& archive, const std::string& kind, const std::string& path) {
  write_file_atomic(path, archive_file_bytes(archive, kind));
}

TensorArchive archive_from_bytes(std::string_view bytes, const std::string& kind, const std::string& path,
                                 const std::string& fix) {
  return TensorArchive::parse(checked_payload(bytes, kind, path, fix), path);
}

TensorArchive load_archive(const std::string& kind, const std::string& path, const std::string& fix) {
  std::error_code ec;
  HWNAS_CHECK_T(DataError, std::filesystem::exists(path, ec), "No ", display(kind), " at '", path, "'; ", fix);
  return archive_from_bytes(read_file(path, display(kind)), kind, path, fix);
}

}  // namespace hwnas::detail

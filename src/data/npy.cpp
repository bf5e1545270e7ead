#include "hwnas/data/npy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <torch/torch.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "hwnas/core/error.h"

namespace hwnas::data {
namespace {

constexpr const char* kHint = "write it with numpy.save (C order) or give another file";

const std::map<std::string, std::pair<int64_t, torch::ScalarType>>& dtypes() {
  static const std::map<std::string, std::pair<int64_t, torch::ScalarType>> m = {
      {"u1", {1, torch::kUInt8}}, {"i1", {1, torch::kInt8}},    {"b1", {1, torch::kUInt8}},
      {"i2", {2, torch::kInt16}}, {"i4", {4, torch::kInt32}},   {"i8", {8, torch::kInt64}},
      {"f4", {4, torch::kFloat32}}, {"f8", {8, torch::kFloat64}}};
  return m;
}

// The value of 'key' in NumPy's header dict, a Python literal: up to the next ',' or '}'
// at depth 0 (a shape tuple keeps its commas).
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const auto k = header.find("'" + key + "'");
  HWNAS_CHECK_T(DataError, k != std::string::npos, "NumPy file '", path, "': the header has no '", key, "'; ", kHint);
  auto p = header.find(':', k + key.size() + 2);
  HWNAS_CHECK_T(DataError, p != std::string::npos, "NumPy file '", path, "': the header's '", key, "' has no value; ", kHint);
  ++p;
  int depth = 0;
  size_t end = p;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth < 0 || (depth == 0 && (c == ',' || c == '}'))) break;
  }
  HWNAS_CHECK_T(DataError, depth == 0 && end < header.size(), "NumPy file '", path, "': the header's '", key,
                "' is not closed; ", kHint);
  auto v = header.substr(p, end - p);
  const auto first = v.find_first_not_of(" \t"), last = v.find_last_not_of(" \t");
  return first == std::string::npos ? "" : v.substr(first, last - first + 1);
}

struct Mapping {
  void* data = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (data != MAP_FAILED) munmap(data, size);
  }
};

}  // namespace

NpyHeader read_npy_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  HWNAS_CHECK_T(DataError, in.good(), "NumPy file '", path, "' is missing or unreadable");
  std::error_code ec;
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  HWNAS_CHECK_T(DataError, !ec, "NumPy file '", path, "' is missing or unreadable");
  char magic[8] = {};
  in.read(magic, 8);
  HWNAS_CHECK_T(DataError, in.gcount() == 8 && std::memcmp(magic, "\x93NUMPY", 6) == 0, "'", path,
                "' is not a NumPy .npy file (no \\x93NUMPY magic); ", kHint);
  const int major = static_cast<unsigned char>(magic[6]);
  HWNAS_CHECK_T(DataError, major >= 1 && major <= 3, "NumPy file '", path, "' has format version ", major, ".",
                static_cast<int>(static_cast<unsigned char>(magic[7])), "; hwnas reads versions 1 to 3");
  const int len_bytes = major == 1 ? 2 : 4;
  unsigned char len[4] = {};
  in.read(reinterpret_cast<char*>(len), len_bytes);
  HWNAS_CHECK_T(DataError, in.gcount() == len_bytes, "NumPy file '", path, "' ends inside its header");
  int64_t header_len = 0;
  for (int i = len_bytes - 1; i >= 0; --i) header_len = header_len * 256 + len[i];
  HWNAS_CHECK_T(DataError, header_len > 0 && 8 + len_bytes + header_len <= file_size && header_len <= (1 << 20),
                "NumPy file '", path, "' declares a ", header_len, "-byte header, more than the file holds");
  std::string header(static_cast<size_t>(header_len), '\0');
  in.read(header.data(), header_len);
  HWNAS_CHECK_T(DataError, in.gcount() == header_len, "NumPy file '", path, "' ends inside its header");

  NpyHeader h;
  h.data_offset = 8 + len_bytes + header_len;
  auto descr = dict_value(header, "descr", path);
  HWNAS_CHECK_T(DataError, descr.size() >= 4 && (descr.front() == '\'' || descr.front() == '"') && descr.back() == descr.front(),
                "NumPy file '", path, "': 'descr' is ", descr, ", not a type string such as '<f4'; ", kHint);
  descr = descr.substr(1, descr.size() - 2);
  const char order = descr[0];
  h.dtype = descr.substr(1);
  const auto known = dtypes().find(h.dtype);
  HWNAS_CHECK_T(DataError, known != dtypes().end(), "NumPy file '", path, "' holds type '", descr,
                "'; hwnas reads u1, i1, b1, i2, i4, i8, f4 and f8 (convert with array.astype)");
  h.item_size = known->second.first;
  HWNAS_CHECK_T(DataError, order == '<' || order == '|' || (order == '=' && h.item_size == 1), "NumPy file '", path,
                "' holds type '", descr, "' in big-endian or native order; write it little-endian (array.astype('<",
                h.dtype, "'))");
  HWNAS_CHECK_T(DataError, dict_value(header, "fortran_order", path) == "False", "NumPy file '", path,
                "' is in Fortran order; write it in C order (numpy.save(path, numpy.ascontiguousarray(a)))");
  const auto shape = dict_value(header, "shape", path);
  HWNAS_CHECK_T(DataError, shape.size() >= 2 && shape.front() == '(' && shape.back() == ')', "NumPy file '", path,
                "': 'shape' is ", shape, ", not a tuple; ", kHint);
  int64_t count = 1;
  size_t i = 1;
  while (i + 1 < shape.size()) {
    while (i + 1 < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i + 1 >= shape.size()) break;
    HWNAS_CHECK_T(DataError, std::isdigit(static_cast<unsigned char>(shape[i])), "NumPy file '", path, "': 'shape' is ",
                  shape, ", not a tuple of whole numbers; ", kHint);
    int64_t d = 0;
    while (i + 1 < shape.size() && std::isdigit(static_cast<unsigned char>(shape[i]))) {
      HWNAS_CHECK_T(DataError, d < (int64_t{1} << 40), "NumPy file '", path, "': a dimension of ", shape, " is too large");
      d = d * 10 + (shape[i++] - '0');
    }
    h.shape.push_back(d);
    HWNAS_CHECK_T(DataError, d == 0 || count <= (int64_t{1} << 40) / d, "NumPy file '", path, "': shape ", shape,
                  " has more elements than any file holds");
    count *= d;
  }
  HWNAS_CHECK_T(DataError, !h.shape.empty(), "NumPy file '", path, "' holds a single number, not an array");
  HWNAS_CHECK_T(DataError, h.data_offset + count * h.item_size <= file_size, "NumPy file '", path, "' is truncated: shape ",
                shape, " of ", descr, " needs ", count * h.item_size, " bytes after the header, but ",
                file_size - h.data_offset, " follow; write it again with numpy.save or give another file");
  return h;
}

torch::Tensor load_npy(const std::string& path, int64_t rows) {
  const auto h = read_npy_header(path);
  auto shape = h.shape;
  if (rows > 0 && rows < shape[0]) shape[0] = rows;
  int64_t count = 1;
  for (auto d : shape) count *= d;
  const auto type = dtypes().at(h.dtype).second;
  if (count == 0) return torch::empty(shape, torch::TensorOptions().dtype(type));
  const int fd = ::open(path.c_str(), O_RDONLY);
  HWNAS_CHECK_T(DataError, fd >= 0, "NumPy file '", path, "' is missing or unreadable");
  Mapping m;
  m.size = static_cast<size_t>(h.data_offset + count * h.item_size);
  m.data = ::mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  HWNAS_CHECK_T(DataError, m.data != MAP_FAILED, "NumPy file '", path, "' could not be mapped: ", std::strerror(errno));
  auto* start = static_cast<char*>(m.data) + h.data_offset;
  auto out = torch::from_blob(start, shape, torch::TensorOptions().dtype(type)).clone();
  if (h.dtype == "b1") out = out.ne(0).to(torch::kUInt8);
  return out;
}

}  // namespace hwnas::data

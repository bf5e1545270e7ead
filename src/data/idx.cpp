#include "hwnas/data/idx.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include <torch/torch.h>
#include <zlib.h>

#include "hwnas/core/error.h"

namespace hwnas::data {
namespace {

constexpr const char* kInstallHint =
    "Give a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (--data-dir)";

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly n bytes; returns how many were read (fewer at end of file).
int64_t read_bytes(gzFile f, uint8_t* dst, int64_t n, const std::string& path, const std::string& hint) {
  int64_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(n - done, 1 << 30));
    const int got = gzread(f, dst + done, chunk);
    if (got < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw DataError(detail::concat("IDX file '", path, "' is corrupt (", msg, "). ", hint));
    }
    if (got == 0) break;
    done += got;
  }
  return done;
}

}  // namespace

std::vector<int64_t> read_idx_file(const std::string& path, int expected_dims,
                                   std::vector<uint8_t>& bytes, int64_t limit, const std::string& hint_or_empty) {
  const std::string hint = hint_or_empty.empty() ? std::string(kInstallHint) : hint_or_empty;
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  HWNAS_CHECK_T(DataError, f != nullptr, "IDX file '", path, "' is missing or unreadable. ",
                hint);
  uint8_t header[4];
  HWNAS_CHECK_T(DataError, read_bytes(f.get(), header, 4, path, hint) == 4, "IDX file '", path,
                "' is truncated: it ends inside the 4-byte IDX header. ", hint);
  const uint32_t magic = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                         (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  const uint32_t expected = 0x0800u | static_cast<uint32_t>(expected_dims);
  char got[16], want[16];
  std::snprintf(got, sizeof got, "0x%08x", magic);
  std::snprintf(want, sizeof want, "0x%08x", expected);
  HWNAS_CHECK_T(DataError, magic == expected, "IDX file '", path,
                "' has IDX magic number ", got, ", expected ", want, " (unsigned bytes, ",
                expected_dims, " dimension", expected_dims > 1 ? "s" : "",
                "): not the right IDX file. ", hint);
  std::vector<int64_t> dims(static_cast<size_t>(expected_dims));
  int64_t total = 1;
  for (auto& d : dims) {
    uint8_t b[4];
    HWNAS_CHECK_T(DataError, read_bytes(f.get(), b, 4, path, hint) == 4, "IDX file '", path,
                  "' is truncated inside its IDX header. ", hint);
    d = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
    HWNAS_CHECK_T(DataError, d > 0 && d < (1 << 24), "IDX file '", path,
                  "' declares an implausible dimension ", d, ". ", hint);
    total *= d;  // at most 3 factors below 2^24: fits in 72 bits only if checked as we go
    HWNAS_CHECK_T(DataError, total <= (int64_t{1} << 40), "IDX file '", path, "' declares dimensions whose "
                  "product exceeds 2^40 bytes: not a real IDX header. ", hint);
  }
  // Deflate expands at most about 1032:1: a header promising more than that cannot be true,
  // and nothing is allocated for it.
  std::error_code ec;
  const auto on_disk = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  HWNAS_CHECK_T(DataError, !ec && total <= on_disk * 1100 + 64, "IDX file '", path, "' declares ", total,
                " bytes of data, more than its ", ec ? 0 : on_disk, " bytes on disk can hold: the header is damaged. ",
                hint);
  bytes.resize(static_cast<size_t>(total));
  const int64_t got_bytes = read_bytes(f.get(), bytes.data(), total, path, hint);
  HWNAS_CHECK_T(DataError, got_bytes == total, "IDX file '", path,
                "' is truncated: its header promises ", total, " bytes of data, but only ",
                got_bytes, " follow. ", hint);
  uint8_t extra = 0;  // reading past the end also checks the gzip trailer's CRC
  HWNAS_CHECK_T(DataError, read_bytes(f.get(), &extra, 1, path, hint) == 0, "IDX file '", path,
                "' holds more data than its header declares (", dims[0], " items): it is damaged or not an IDX file. ",
                hint);
  if (limit > 0 && limit < dims[0]) bytes.resize(static_cast<size_t>(total / dims[0] * limit));
  return dims;
}

Dataset load_idx_dataset(const IdxDatasetOptions& o) {
  HWNAS_CHECK_T(ConfigError, o.limit() >= 0, "Expected a non-negative limit, but got ", o.limit());
  HWNAS_CHECK_T(ConfigError, o.classes() >= 2 && o.classes() <= 256, "An IDX dataset has 2 to 256 classes, not ",
                o.classes());
  const std::string prefix = o.root() + "/" + (o.train() ? "train" : "t10k");
  // name.gz if it exists, else name (gzopen reads uncompressed files as they are).
  auto pick = [](const std::string& base) {
    return std::filesystem::exists(base + ".gz") || !std::filesystem::exists(base) ? base + ".gz" : base;
  };
  const std::string images_path = pick(prefix + "-images-idx3-ubyte");
  const std::string labels_path = pick(prefix + "-labels-idx1-ubyte");
  const std::string& hint = o.hint();

  std::vector<uint8_t> image_bytes, label_bytes;
  auto idims = read_idx_file(images_path, 3, image_bytes, o.limit(), hint);
  auto ldims = read_idx_file(labels_path, 1, label_bytes, o.limit(), hint);
  HWNAS_CHECK_T(DataError, idims[0] == ldims[0], "IDX files disagree: '", images_path, "' holds ", idims[0],
                " images but '", labels_path, "' holds ", ldims[0], " labels. ", hint);
  if (o.limit() > 0) idims[0] = std::min(idims[0], o.limit());
  for (size_t i = 0; i < label_bytes.size(); ++i)
    HWNAS_CHECK_T(DataError, label_bytes[i] < o.classes(), "IDX file '", labels_path, "' has label ",
                  int{label_bytes[i]}, " at index ", i, "; labels are 0..", o.classes() - 1, ". ", hint);

  const int64_t n = idims[0];
  auto images = torch::from_blob(image_bytes.data(), {n, 1, idims[1], idims[2]}, torch::kUInt8)
                    .to(torch::kFloat32)
                    .div_(255.0);
  if (o.normalize()) images.sub_(o.mean()).div_(o.std());
  auto labels = torch::from_blob(label_bytes.data(), {n}, torch::kUInt8).to(torch::kInt64);
  Dataset d{images, labels, o.classes(), o.name() + "/" + (o.train() ? "train" : "test")};
  d.input = input_contract(images, "uint8 pixels 0..255 of the IDX file", 255,
                           o.normalize() ? std::vector<double>{o.mean()} : std::vector<double>{},
                           o.normalize() ? std::vector<double>{o.std()} : std::vector<double>{});
  return d;
}

}  // namespace hwnas::data

#include "hwnas/data/image_folder.h"

#include <opencv2/core.hpp>
#include <opencv2/core/version.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include "hwnas/core/error.h"
#include "hwnas/core/threads.h"

namespace hwnas::data {
namespace fs = std::filesystem;
namespace {

const std::set<std::string>& image_extensions() {
  static const std::set<std::string> e{".png", ".jpg", ".jpeg", ".bmp", ".webp"};
  return e;
}

bool is_image(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return image_extensions().count(ext) > 0;
}

const std::map<std::string, int>& interpolations() {
  static const std::map<std::string, int> m{
      {"area", cv::INTER_AREA}, {"linear", cv::INTER_LINEAR}, {"cubic", cv::INTER_CUBIC}, {"nearest", cv::INTER_NEAREST}};
  return m;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  HWNAS_CHECK_T(DataError, in.good(), "image '", path, "' cannot be opened; check its permissions or remove it");
  const auto size = static_cast<std::streamoff>(in.tellg());
  HWNAS_CHECK_T(DataError, size >= 0, "image '", path, "' cannot be read; check that it is a regular file");
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  HWNAS_CHECK_T(DataError, in.gcount() == size, "image '", path, "' changed size while it was read; read it again");
  return bytes;
}

// A JPEG ends with the EOI marker (FF D9), possibly followed by padding; libjpeg decodes a
// truncated file with a warning and grey rows, so the end is checked here.
bool jpeg_complete(const std::string& bytes) {
  size_t end = bytes.size();
  const size_t floor = end > 4096 ? end - 4096 : 0;
  while (end > floor && (bytes[end - 1] == '\0' || bytes[end - 1] == '\n' || bytes[end - 1] == '\r' || bytes[end - 1] == ' '))
    --end;
  return end >= 2 && static_cast<unsigned char>(bytes[end - 2]) == 0xFF && static_cast<unsigned char>(bytes[end - 1]) == 0xD9;
}

// A PNG's chunks, walked and their checksums checked before libpng sees the file, so that
// a truncated or damaged file gets one message naming it (libpng would print its own
// lines to standard error first). Returns what is wrong, or "" when the chunks are whole.
std::string png_damage(const std::string& b) {
  const auto u32 = [&](size_t at) {
    return (uint32_t{static_cast<unsigned char>(b[at])} << 24) | (uint32_t{static_cast<unsigned char>(b[at + 1])} << 16) |
           (uint32_t{static_cast<unsigned char>(b[at + 2])} << 8) | uint32_t{static_cast<unsigned char>(b[at + 3])};
  };
  size_t at = 8;
  for (int chunk = 0;; ++chunk) {
    if (b.size() - at < 12) return "truncated at chunk " + std::to_string(chunk);
    const uint32_t length = u32(at);
    if (length > 0x7fffffffu || b.size() - at - 12 < length) return "truncated in chunk " + std::to_string(chunk);
    const std::string type = b.substr(at + 4, 4);
    if (chunk == 0 && type != "IHDR") return "no IHDR chunk first";
    const auto crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data() + at + 4), length + 4);
    if (crc != u32(at + 8 + length)) return "checksum mismatch in chunk " + std::to_string(chunk) + " (" + type + ")";
    at += 12 + length;
    if (type == "IEND") return "";
  }
}

bool is_png(const std::string& bytes) { return bytes.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) == 0; }
bool is_bmp(const std::string& bytes) { return bytes.size() >= 26 && bytes[0] == 'B' && bytes[1] == 'M'; }
bool is_webp(const std::string& bytes) {
  return bytes.size() >= 12 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WEBP") == 0;
}

bool is_jpeg(const std::string& bytes) {
  return bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF && static_cast<unsigned char>(bytes[1]) == 0xD8 &&
         static_cast<unsigned char>(bytes[2]) == 0xFF;
}

}  // namespace

void ImageFolderOptions::validate() const {
  HWNAS_CHECK_T(ConfigError, channels() == 1 || channels() == 3, "image-folder \"channels\" is ", channels(),
                "; give 1 (grey) or 3 (RGB)");
  HWNAS_CHECK_T(ConfigError, size() >= 1 && size() <= 4096, "image-folder \"size\" is ", size(), "; give 1 to 4096 pixels");
  HWNAS_CHECK_T(ConfigError, resize() == "stretch" || resize() == "crop", "image-folder \"resize\" is '", resize(),
                "'; give \"stretch\" or \"crop\"");
  HWNAS_CHECK_T(ConfigError, interpolations().count(interpolation()) > 0, "image-folder \"interpolation\" is '",
                interpolation(), "'; give \"area\", \"linear\", \"cubic\" or \"nearest\"");
  HWNAS_CHECK_T(ConfigError, limit() >= 0, "image-folder limit is ", limit(), "; give 0 (all) or more");
  HWNAS_CHECK_T(ConfigError, threads() >= 0 && threads() <= 256, "image-folder \"threads\" is ", threads(), "; give 0 to 256");
  HWNAS_CHECK_T(ConfigError, cache() == "auto" || cache() == "memory" || cache() == "stream", "image-folder \"cache\" is '",
                cache(), "'; give \"auto\", \"memory\" or \"stream\"");
  HWNAS_CHECK_T(ConfigError, cache_bytes() >= 0, "image-folder \"cache_bytes\" is ", cache_bytes(), "; give 0 or more");
  HWNAS_CHECK_T(ConfigError, stats_samples() >= 1, "image-folder \"stats_samples\" is ", stats_samples(), "; give 1 or more");
  HWNAS_CHECK_T(ConfigError, mean().size() == std().size(), "image-folder normalisation has ", mean().size(),
                " means and ", std().size(), " stds; give one of each per channel");
  HWNAS_CHECK_T(ConfigError, mean().empty() || static_cast<int64_t>(mean().size()) == channels(),
                "image-folder normalisation has ", mean().size(), " means for ", channels(),
                " channels; give one mean and one std per channel");
  for (double s : std())
    HWNAS_CHECK_T(ConfigError, s > 0, "image-folder normalisation std ", s, " is not positive; give stds above 0");
}

namespace {
ImageFolderIndex scan(const std::string& root, bool train);
}

ImageFolderIndex scan_image_folder(const std::string& root, bool train) {
  try {
    return scan(root, train);
  } catch (const fs::filesystem_error& e) {
    throw DataError("image folder '" + root + "' cannot be read: " + e.what() + "; check the permissions and links");
  }
}

namespace {
ImageFolderIndex scan(const std::string& root, bool train) {
  const fs::path base(root);
  std::error_code ec;
  HWNAS_CHECK_T(DataError, fs::is_directory(base, ec), "image folder '", root,
                "' does not exist or is not a folder; set the data dir (--data-dir) to the folder holding one subfolder per class");
  const bool split_layout = fs::is_directory(base / "train", ec);
  const auto classes_in = [](const fs::path& dir) {
    std::vector<std::string> classes;
    std::vector<std::string> loose;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_directory()) classes.push_back(e.path().filename().string());
      else if (is_image(e.path())) loose.push_back(e.path().filename().string());
    }
    std::sort(classes.begin(), classes.end());
    std::sort(loose.begin(), loose.end());
    HWNAS_CHECK_T(DataError, loose.empty(), "image folder '", dir.string(), "' holds images at its top level (",
                  loose.front(), ", ...); put each class's images in a subfolder: ", dir.string(), "/<class>/");
    HWNAS_CHECK_T(DataError, !classes.empty(), "image folder '", dir.string(),
                  "' has no class folders; put each class's images in a subfolder: ", dir.string(), "/<class>/");
    return classes;
  };
  const fs::path train_dir = split_layout ? base / "train" : base;
  ImageFolderIndex index;
  index.classes = classes_in(train_dir);
  fs::path dir = train_dir;
  if (!train) {
    HWNAS_CHECK_T(DataError, split_layout, "image folder '", root, "' has no test part: put the training images in ",
                  root, "/train/<class>/ and the test images in ", root, "/test/<class>/ (or val/)");
    dir = fs::is_directory(base / "test", ec) ? base / "test" : base / "val";
    HWNAS_CHECK_T(DataError, fs::is_directory(dir, ec), "image folder '", root, "' has train/ but no test/ or val/; add ",
                  root, "/test/<class>/ with the test images");
  }
  const auto part_classes = train ? index.classes : classes_in(dir);
  std::map<std::string, int64_t> label_of;
  for (size_t i = 0; i < index.classes.size(); ++i) label_of[index.classes[i]] = static_cast<int64_t>(i);
  for (const auto& name : part_classes) {
    const auto it = label_of.find(name);
    HWNAS_CHECK_T(DataError, it != label_of.end(), "image folder '", (dir / name).string(),
                  "' is a class the training part (", train_dir.string(), ") does not have; rename it or add ",
                  (train_dir / name).string());
    std::vector<std::string> paths;
    for (const auto& e : fs::recursive_directory_iterator(dir / name, fs::directory_options::follow_directory_symlink))
      if (e.is_regular_file() && is_image(e.path())) paths.push_back(e.path().string());
    HWNAS_CHECK_T(DataError, !paths.empty(), "class folder '", (dir / name).string(),
                  "' holds no images (.png, .jpg, .jpeg, .bmp, .webp); add some or remove the folder");
    std::sort(paths.begin(), paths.end());
    for (auto& p : paths) index.files.push_back({std::move(p), it->second});
  }
  return index;
}
}  // namespace

namespace {
// The image decoded, converted and resized: HWC uint8 with o.channels() channels, rows
// contiguous. A 3-channel file is left in OpenCV's BGR order with `bgr` set (resizing
// treats channels alike, so the swap to RGB is left to the one pass that follows).
cv::Mat decode_mat(const std::string& bytes, const std::string& name, const ImageFolderOptions& o, bool& bgr) {
  HWNAS_CHECK_T(DataError, !bytes.empty(), "image '", name, "' is empty; replace or remove it",
                " (or set skip_bad_images, --skip-bad-images)");
  HWNAS_CHECK_T(DataError, !is_jpeg(bytes) || jpeg_complete(bytes), "image '", name,
                "' is a truncated JPEG (no end marker); replace or remove it (or set skip_bad_images, --skip-bad-images)");
  HWNAS_CHECK_T(DataError, bytes.size() < (size_t{1} << 31), "image '", name, "' is ", bytes.size(),
                " bytes, above the 2 GiB an image may be; give smaller images");
  // Only these four formats reach OpenCV: imdecode would otherwise try every decoder it
  // has (DICOM, JPEG 2000, OpenEXR, TIFF, ...), some through temporary files, and a
  // malformed DICOM header aborts inside GDCM (found by fuzz_images).
  HWNAS_CHECK_T(DataError, is_png(bytes) || is_jpeg(bytes) || is_bmp(bytes) || is_webp(bytes), "image '", name,
                "' is not a PNG, JPEG, BMP or WebP file (its first bytes are none of theirs); replace or remove it "
                "(or set skip_bad_images, --skip-bad-images)");
  if (is_png(bytes)) {
    const auto damage = png_damage(bytes);
    HWNAS_CHECK_T(DataError, damage.empty(), "image '", name, "' is a damaged PNG (", damage,
                  "); replace or remove it (or set skip_bad_images, --skip-bad-images)");
  }
  cv::Mat raw;
  try {
    raw = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data())),
                       cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    raw = cv::Mat();
  }
  HWNAS_CHECK_T(DataError, !raw.empty(), "image '", name,
                "' cannot be decoded (corrupt, truncated or not an image); replace or remove it (or set skip_bad_images, --skip-bad-images)");
  HWNAS_CHECK_T(DataError, raw.depth() == CV_8U || raw.depth() == CV_16U, "image '", name, "' has ",
                raw.depth() == CV_32F ? "32-bit float" : "non-integer or signed", " samples; give 8- or 16-bit images");
  if (raw.depth() == CV_16U) raw.convertTo(raw, CV_8U, 1.0 / 257.0);
  const int c = raw.channels();
  HWNAS_CHECK_T(DataError, c == 1 || c == 3 || c == 4, "image '", name, "' has ", c, " channels; give grey, RGB or RGBA images");
  const int colour = c == 1 ? 1 : 3;
  HWNAS_CHECK_T(DataError, o.convert() || colour == o.channels(), "image '", name, "' has ", colour == 1 ? "1 channel" : "3 channels",
                " but \"channels\" is ", o.channels(), " and \"convert\" is false; convert the file or set \"convert\": true");
  HWNAS_CHECK_T(DataError, o.convert() || (raw.rows == o.size() && raw.cols == o.size()), "image '", name, "' is ", raw.cols, "x",
                raw.rows, " but \"size\" is ", o.size(), " and \"convert\" is false; resize the file or set \"convert\": true");
  cv::Mat img;
  bgr = o.channels() == 3 && c == 3;
  if (bgr) {
    img = raw;
  } else if (o.channels() == 3) {
    cv::cvtColor(raw, img, c == 1 ? cv::COLOR_GRAY2RGB : cv::COLOR_BGRA2RGB);
  } else if (c == 1) {
    img = raw;
  } else {
    cv::cvtColor(raw, img, c == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
  }
  const int s = static_cast<int>(o.size());
  const int interp = interpolations().at(o.interpolation());
  if (img.rows != s || img.cols != s) {
    if (o.resize() == "stretch") {
      cv::resize(img, img, cv::Size(s, s), 0, 0, interp);
    } else {
      // The shorter side to s (the longer in proportion, rounded down, at least s), then the centre.
      const int64_t w = img.cols, h = img.rows;
      const int nw = static_cast<int>(w <= h ? s : std::max<int64_t>(s, s * w / h));
      const int nh = static_cast<int>(h <= w ? s : std::max<int64_t>(s, s * h / w));
      if (nw != img.cols || nh != img.rows) cv::resize(img, img, cv::Size(nw, nh), 0, 0, interp);
      img = img(cv::Rect((img.cols - s) / 2, (img.rows - s) / 2, s, s)).clone();
    }
  }
  if (!img.isContinuous()) img = img.clone();
  return img;
}

// HWC to CHW in one pass, channel k of the output read from channel from[k] of the input,
// each pixel through `f`.
template <typename T, typename F>
void to_planes(const cv::Mat& img, int64_t channels, bool bgr, T* out, F f) {
  const int64_t hw = static_cast<int64_t>(img.rows) * img.cols;
  const uint8_t* in = img.data;
  for (int64_t k = 0; k < channels; ++k) {
    const int64_t from = bgr ? channels - 1 - k : k;
    T* plane = out + k * hw;
    for (int64_t i = 0; i < hw; ++i) plane[i] = f(in[i * channels + from], k);
  }
}

// x = (pixel / 255 - mean) / std in float32, the one formula of both the in-memory and the
// streamed path (so that they give the same bits).
struct Normaliser {
  std::vector<float> mean, sd;
  bool on = false;
  Normaliser() = default;
  Normaliser(const std::vector<double>& m, const std::vector<double>& s) : on(!m.empty()) {
    for (size_t k = 0; k < m.size(); ++k) mean.push_back(static_cast<float>(m[k])), sd.push_back(static_cast<float>(s[k]));
  }
  float operator()(float v, int64_t k) const { return on ? (v - mean[static_cast<size_t>(k)]) / sd[static_cast<size_t>(k)] : v; }
};

float unit(uint8_t p) { return static_cast<float>(p) / 255.0f; }

}  // namespace

at::Tensor decode_image(const std::string& bytes, const std::string& name, const ImageFolderOptions& o) {
  bool bgr = false;
  const auto img = decode_mat(bytes, name, o, bgr);
  auto t = torch::empty({o.channels(), o.size(), o.size()}, torch::kUInt8);
  to_planes(img, o.channels(), bgr, t.data_ptr<uint8_t>(), [](uint8_t p, int64_t) { return p; });
  return t;
}

nlohmann::json image_preprocessing(const ImageFolderOptions& o) {
  return {{"decoder", std::string("OpenCV ") + CV_VERSION + " cv::imdecode (Python: cv2.imdecode) with IMREAD_UNCHANGED"},
          {"steps",
           {"decode as stored (no EXIF rotation); 16-bit samples to 8: convertTo(CV_8U, 1/257) (Python: "
            "cv2.convertScaleAbs(img, alpha=1/257))",
            o.channels() == 3 ? "to RGB: cvtColor GRAY2RGB, BGR2RGB or BGRA2RGB" : "to grey: cvtColor BGR2GRAY or BGRA2GRAY",
            o.resize() == "stretch"
                ? "resize to size x size (skipped when already that size)"
                : "resize the shorter side to size and the longer to floor(size * long / short), then cut the centre "
                  "(offset floor((side - size) / 2)); skipped when already size x size",
            "HWC uint8 to CHW, raw = pixel value 0..255"}},
          {"resize", o.resize()},
          {"size", o.size()},
          {"interpolation", o.interpolation()},
          {"opencv_interpolation", "INTER_" + std::string(o.interpolation() == "area" ? "AREA" : o.interpolation() == "linear" ? "LINEAR"
                                                                       : o.interpolation() == "cubic" ? "CUBIC" : "NEAREST")},
          {"channel_order", o.channels() == 3 ? "RGB" : "grey"}};
}

namespace {

// The files' images decoded on demand, scaled and normalised as the in-memory path does.
class ImageFolderSource : public SampleSource {
 public:
  ImageFolderSource(std::vector<ImageFile> files, ImageFolderOptions o) : files_(std::move(files)), o_(std::move(o)) {}
  void normalize(const std::vector<double>& mean, const std::vector<double>& stdev) { norm_ = Normaliser(mean, stdev); }
  at::Tensor read(int64_t row) const override {
    auto x = torch::empty({o_.channels(), o_.size(), o_.size()}, torch::kFloat32);
    read_into(row, x);
    return x;
  }
  // Decoding, then one pass: channel order, layout, float conversion and normalisation.
  void read_into(int64_t row, at::Tensor& out) const override {
    const auto& f = files_.at(static_cast<size_t>(row));
    bool bgr = false;
    const auto img = decode_mat(read_bytes(f.path), f.path, o_, bgr);
    to_planes(img, o_.channels(), bgr, out.data_ptr<float>(), [this](uint8_t p, int64_t k) { return norm_(unit(p), k); });
  }
  std::vector<int64_t> shape() const override { return {o_.channels(), o_.size(), o_.size()}; }

 private:
  std::vector<ImageFile> files_;
  ImageFolderOptions o_;
  Normaliser norm_;
};

}  // namespace

Dataset load_image_folder(const ImageFolderOptions& o) {
  o.validate();
  auto index = scan_image_folder(o.root(), o.train());
  auto& files = index.files;
  const auto labels_of = [](const std::vector<ImageFile>& fs) {
    std::vector<int64_t> labels;
    for (const auto& f : fs) labels.push_back(f.label);
    return labels;
  };
  if (o.limit() > 0 && o.limit() < static_cast<int64_t>(files.size())) {
    std::vector<ImageFile> chosen;
    for (auto i : stratified_choice(labels_of(files), o.limit(), o.seed())) chosen.push_back(std::move(files[static_cast<size_t>(i)]));
    files = std::move(chosen);
  }
  const auto n = static_cast<int64_t>(files.size());
  const auto decoded_bytes = n * o.channels() * o.size() * o.size() * 4;
  if (o.cache() == "stream" || (o.cache() == "auto" && decoded_bytes > o.cache_bytes())) {
    HWNAS_CHECK_T(ConfigError, !o.skip_bad_images(), "image folder '", o.root(), "' is streamed (its ", decoded_bytes,
                  " decoded bytes exceed \"cache_bytes\" ", o.cache_bytes(), ", or \"cache\" is \"stream\"), and a "
                  "streamed folder cannot leave out bad images it has not decoded yet; set \"cache\": \"memory\" or "
                  "remove the bad images");
    auto source = std::make_shared<ImageFolderSource>(files, o);
    std::vector<double> mean = o.mean(), stdev = o.std();
    if (o.normalize() && mean.empty()) {
      // The statistics of a stratified sample of the images, decoded one at a time.
      const auto chosen = stratified_choice(labels_of(files), std::min(n, o.stats_samples()), o.seed());
      auto sum = torch::zeros({o.channels()}, torch::kFloat64), squares = torch::zeros({o.channels()}, torch::kFloat64);
      for (auto row : chosen) {
        const auto x = source->read(row).to(torch::kFloat64);
        sum += x.sum({1, 2});
        squares += x.square().sum({1, 2});
      }
      const double count = static_cast<double>(chosen.size() * o.size() * o.size());
      for (int64_t k = 0; k < o.channels(); ++k) {
        const double m = sum[k].item<double>() / count;
        mean.push_back(m);
        stdev.push_back(std::max(1e-6, std::sqrt(std::max(0.0, squares[k].item<double>() / count - m * m))));
      }
    }
    if (!o.normalize()) mean.clear(), stdev.clear();
    if (!mean.empty()) source->normalize(mean, stdev);
    std::vector<int64_t> rows(static_cast<size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    auto d = Dataset::streamed(source, std::move(rows), torch::tensor(labels_of(files), torch::kLong),
                               static_cast<int64_t>(index.classes.size()),
                               std::string("image-folder/") + (o.train() ? "train" : "test"));
    auto contract_shape = torch::empty({1, o.channels(), o.size(), o.size()});
    d.input = input_contract(contract_shape, "uint8 pixels 0..255 of the decoded image", 255, mean, stdev,
                             image_preprocessing(o));
    d.input["classes"] = index.classes;
    return d;
  }
  const int64_t c = o.channels(), s = o.size();
  auto pixels = torch::empty({n, c, s, s}, torch::kUInt8);
  std::vector<std::string> errors(static_cast<size_t>(n));
  std::vector<char> ok(static_cast<size_t>(n), 0);
  // Failures are kept per image (not thrown): --skip-bad-images leaves them out.
  parallel_indexed(n, static_cast<int>(o.threads()), [&](int64_t i) {
    const auto& f = files[static_cast<size_t>(i)];
    try {
      pixels[i].copy_(decode_image(read_bytes(f.path), f.path, o));
      ok[static_cast<size_t>(i)] = 1;
    } catch (const Error& e) {
      errors[static_cast<size_t>(i)] = e.what();
    } catch (const std::exception& e) {  // OpenCV or allocation failures on odd files
      errors[static_cast<size_t>(i)] = "image '" + f.path + "' cannot be decoded (" + e.what() +
                                       "); replace or remove it (or set skip_bad_images, --skip-bad-images)";
    }
  });
  // The first failure in folder order, whatever the threads' timing.
  std::vector<int64_t> keep;
  std::string first_error;
  for (int64_t i = 0; i < n; ++i) {
    if (ok[static_cast<size_t>(i)]) {
      keep.push_back(i);
      continue;
    }
    HWNAS_CHECK_T(DataError, o.skip_bad_images(), errors[static_cast<size_t>(i)]);
    if (first_error.empty()) first_error = errors[static_cast<size_t>(i)];
  }
  if (!first_error.empty())
    spdlog::warn("image folder '{}': left out {} of {} images that cannot be read (the first: {})", o.root(),
                 n - static_cast<int64_t>(keep.size()), n, first_error);
  HWNAS_CHECK_T(DataError, !keep.empty(), "image folder '", o.root(), "' has no readable ", o.train() ? "training" : "test",
                " images (", n, " skipped); check the files");
  std::vector<int64_t> labels;
  for (auto i : keep) labels.push_back(files[static_cast<size_t>(i)].label);
  const auto kept = static_cast<int64_t>(keep.size()) == n ? pixels : pixels.index_select(0, torch::tensor(keep, torch::kLong));
  auto x = torch::empty(kept.sizes(), torch::kFloat32);
  {
    const uint8_t* p = kept.data_ptr<uint8_t>();
    float* q = x.data_ptr<float>();
    for (int64_t i = 0, total = kept.numel(); i < total; ++i) q[i] = unit(p[i]);
  }
  std::vector<double> mean = o.mean(), stdev = o.std();
  if (o.normalize() && mean.empty()) {
    const auto m = x.mean({0, 2, 3}), sd = x.std({0, 2, 3}, /*unbiased=*/false).clamp_min(1e-6);
    for (int64_t k = 0; k < c; ++k) mean.push_back(m[k].item<double>()), stdev.push_back(sd[k].item<double>());
  }
  if (!o.normalize()) mean.clear(), stdev.clear();
  if (!mean.empty()) {
    const Normaliser norm(mean, stdev);
    float* q = x.data_ptr<float>();
    const int64_t hw = s * s;
    for (int64_t plane = 0, planes = x.numel() / hw; plane < planes; ++plane)
      for (int64_t i = plane * hw, end = i + hw; i < end; ++i) q[i] = norm(q[i], plane % c);
  }
  Dataset d{x, torch::tensor(labels, torch::kLong), static_cast<int64_t>(index.classes.size()),
            std::string("image-folder/") + (o.train() ? "train" : "test")};
  d.skipped = n - static_cast<int64_t>(keep.size());
  d.input = input_contract(x, "uint8 pixels 0..255 of the decoded image", 255, mean, stdev, image_preprocessing(o));
  d.input["classes"] = index.classes;
  return d;
}

}  // namespace hwnas::data

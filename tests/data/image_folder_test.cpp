#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "hwnas/data/image_folder.h"
#include "hwnas/data/registry.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::data::ImageFolderOptions;
using hwnas::data::load_image_folder;

namespace {

// RGB value of pixel (y, x) of image i.
uint8_t px(int i, int c, int y, int x) { return static_cast<uint8_t>((i * 37 + c * 71 + y * 13 + x * 7) % 256); }

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// `image` encoded by OpenCV (the library hwnas decodes with) in the format of the path's
// extension.
void save(const std::string& path, const cv::Mat& image, const std::vector<int>& params = {}) {
  std::vector<uchar> buf;
  REQUIRE(cv::imencode(fs::path(path).extension().string(), image, buf, params));
  write_bytes(path, std::string(buf.begin(), buf.end()));
}

// An h x w RGB image (OpenCV keeps BGR).
void write_rgb(const std::string& path, int i, int h, int w, const std::vector<int>& params = {}) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(px(i, 2, y, x), px(i, 1, y, x), px(i, 0, y, x));
  save(path, m, params);
}


ImageFolderOptions raw(const std::string& root, int64_t size = 8) {
  return ImageFolderOptions().root(root).size(size).normalize(false).threads(2);
}

int64_t byte_at(const torch::Tensor& images, int64_t n, int c, int y, int x) {
  return (images[n][c][y][x] * 255).round().item<int64_t>();
}

}  // namespace

TEST_CASE("image-folder reads PNG, BMP and lossless WebP in class and file order with exact pixels", "[data][image_folder]") {
  const auto root = hwnas::test::temp_dir("imgf_exact");
  // Classes sorted by name (b_dog after a_cat), files sorted by path within a class, any
  // extension case, nested folders included.
  write_rgb(root + "/b_dog/2.png", 2, 8, 8);
  write_rgb(root + "/b_dog/1.BMP", 1, 8, 8);
  write_rgb(root + "/a_cat/x/0.webp", 0, 8, 8, {cv::IMWRITE_WEBP_QUALITY, 101});
  write_bytes(root + "/a_cat/notes.txt", "not an image");
  const auto d = load_image_folder(raw(root));
  REQUIRE(d.images.sizes() == torch::IntArrayRef({3, 3, 8, 8}));
  REQUIRE(d.num_classes == 2);
  CHECK(d.labels[0].item<int64_t>() == 0);
  CHECK(d.labels[1].item<int64_t>() == 1);
  CHECK(d.labels[2].item<int64_t>() == 1);
  const int order[] = {0, 1, 2};  // a_cat/x/0.webp, b_dog/1.BMP, b_dog/2.png
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 3; ++c)
      for (int y : {0, 3, 7})
        for (int x : {0, 5, 7}) REQUIRE(byte_at(d.images, n, c, y, x) == px(order[n], c, y, x));
  CHECK(d.input.at("classes") == nlohmann::json({"a_cat", "b_dog"}));
  CHECK(d.input.at("normalize").is_null());
  CHECK(d.input.at("divisor").get<double>() == 255);
  CHECK(d.input.at("preprocessing").at("decoder").get<std::string>().find("OpenCV") == 0);
}

TEST_CASE("image-folder converts channels and bit depth, crops and resizes as OpenCV does", "[data][image_folder]") {
  const auto root = hwnas::test::temp_dir("imgf_convert");
  write_rgb(root + "/c/0_rgb.png", 4, 8, 16);  // wide: crop keeps columns 4..11
  cv::Mat grey(8, 8, CV_8UC1);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) grey.at<uint8_t>(y, x) = px(5, 0, y, x);
  save(root + "/c/1_grey.png", grey);
  cv::Mat deep(8, 8, CV_16UC1);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) deep.at<uint16_t>(y, x) = static_cast<uint16_t>(257 * px(6, 0, y, x));
  save(root + "/c/2_deep.png", deep);
  write_rgb(root + "/d/0.png", 7, 8, 8);

  const auto rgb = load_image_folder(raw(root).resize("crop"));
  for (int c = 0; c < 3; ++c)
    for (int y : {0, 7})
      for (int x : {0, 7}) {
        CHECK(byte_at(rgb.images, 0, c, y, x) == px(4, c, y, x + 4));  // the centre of 16 columns
        CHECK(byte_at(rgb.images, 1, c, y, x) == px(5, 0, y, x));      // grey replicated
        CHECK(byte_at(rgb.images, 2, c, y, x) == px(6, 0, y, x));      // 16 bits to 8
      }
  // Grey output: OpenCV's BGR2GRAY of the colour image.
  const auto g = load_image_folder(raw(root).channels(1));
  const auto encoded = file_bytes(root + "/d/0.png");
  cv::Mat colour = cv::imdecode(cv::Mat(1, static_cast<int>(encoded.size()), CV_8U, const_cast<char*>(encoded.data())),
                                cv::IMREAD_UNCHANGED),
          expect;
  cv::cvtColor(colour, expect, cv::COLOR_BGR2GRAY);
  REQUIRE(g.images.size(1) == 1);
  CHECK(byte_at(g.images, 3, 0, 2, 3) == expect.at<uint8_t>(2, 3));
  // Stretching to 4 x 4 with area interpolation equals cv::resize's.
  const auto small = load_image_folder(raw(root, 4));
  cv::Mat rgb_m, resized;
  cv::cvtColor(colour, rgb_m, cv::COLOR_BGR2RGB);
  cv::resize(rgb_m, resized, cv::Size(4, 4), 0, 0, cv::INTER_AREA);
  for (int c = 0; c < 3; ++c) CHECK(byte_at(small.images, 3, c, 1, 2) == resized.at<cv::Vec3b>(1, 2)[c]);
  // convert false refuses other sizes and channel counts, naming the file.
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root).convert(false)), "0_rgb.png", "8", "16",
                          "\"convert\"");
  fs::remove(root + "/c/0_rgb.png");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root).convert(false)), "1_grey.png", "1 channel");
}

TEST_CASE("image-folder resizes as the contract says (to RGB, then cv::resize) with every interpolation", "[data][image_folder]") {
  const auto root = hwnas::test::temp_dir("imgf_resize");
  cv::Mat noise(23, 31, CV_8UC3);
  cv::randu(noise, 0, 256);
  save(root + "/a/0.png", noise);
  for (const std::string interp : {"area", "linear", "cubic", "nearest"}) {
    for (const std::string mode : {"stretch", "crop"}) {
      INFO(interp << " " << mode);
      const auto got = load_image_folder(raw(root, 12).interpolation(interp).resize(mode));
      cv::Mat rgb, expect;
      cv::cvtColor(noise, rgb, cv::COLOR_BGR2RGB);
      const int flag = interp == "area" ? cv::INTER_AREA : interp == "linear" ? cv::INTER_LINEAR
                       : interp == "cubic" ? cv::INTER_CUBIC : cv::INTER_NEAREST;
      if (mode == "stretch") {
        cv::resize(rgb, expect, cv::Size(12, 12), 0, 0, flag);
      } else {
        cv::resize(rgb, expect, cv::Size(12 * 31 / 23, 12), 0, 0, flag);
        expect = expect(cv::Rect((expect.cols - 12) / 2, 0, 12, 12)).clone();
      }
      int64_t wrong = 0;
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 12; ++y)
          for (int x = 0; x < 12; ++x) wrong += byte_at(got.images, 0, c, y, x) != expect.at<cv::Vec3b>(y, x)[c];
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("A streamed image folder gives the same bits as the same folder in memory", "[data][image_folder]") {
  const auto root = hwnas::test::temp_dir("imgf_stream");
  for (int i = 0; i < 7; ++i) write_rgb(root + "/" + (i % 2 ? "b" : "a") + "/" + std::to_string(i) + ".png", i, 10, 13);
  cv::Mat grey(9, 9, CV_8UC1);
  cv::randu(grey, 0, 256);
  save(root + "/a/grey.png", grey);
  for (const bool normalize : {false, true}) {
    auto o = raw(root, 8).resize("crop").normalize(normalize);
    if (normalize) o.mean({0.4, 0.5, 0.6}).std({0.2, 0.25, 0.3});
    const auto memory = load_image_folder(ImageFolderOptions(o).cache("memory"));
    const auto streamed = load_image_folder(ImageFolderOptions(o).cache("stream"));
    REQUIRE(streamed.is_streamed());
    REQUIRE(streamed.size() == memory.size());
    REQUIRE(torch::equal(streamed.in_memory().images, memory.images));
    REQUIRE(torch::equal(streamed.labels, memory.labels));
    CHECK(streamed.input == memory.input);
  }
}

TEST_CASE("image-folder train/ and test/ parts share the classes and the training statistics", "[data][image_folder]") {
  const auto root = hwnas::test::temp_dir("imgf_parts");
  for (int i = 0; i < 6; ++i) write_rgb(root + "/train/" + (i % 2 ? "b" : "a") + "/" + std::to_string(i) + ".png", i, 8, 8);
  write_rgb(root + "/test/b/9.png", 9, 8, 8);  // the test part may lack a class
  hwnas::data::DataRequest q;
  q.dir(root);
  const auto train = hwnas::data::load_dataset("image-folder", {{"size", 8}}, q);
  REQUIRE(train.size() == 6);
  // Normalised with the loaded training images' per-channel mean and std.
  const auto m = train.images.mean({0, 2, 3}), s = train.images.std({0, 2, 3}, false);
  for (int c = 0; c < 3; ++c) {
    CHECK(std::abs(m[c].item<double>()) < 1e-5);
    CHECK(s[c].item<double>() == Approx(1.0).epsilon(1e-4));
  }
  q.train(false);
  q.train_input(train.input);
  const auto test = hwnas::data::load_dataset("image-folder", {{"size", 8}}, q);
  REQUIRE(test.size() == 1);
  CHECK(test.labels[0].item<int64_t>() == 1);
  CHECK(test.num_classes == 2);
  CHECK(test.input.at("normalize") == train.input.at("normalize"));
  const auto& n = train.input.at("normalize");
  CHECK(test.images[0][1][2][3].item<double>() ==
        Approx((px(9, 1, 2, 3) / 255.0 - n.at("mean")[1].get<double>()) / n.at("std")[1].get<double>()).epsilon(1e-4));
  // A class only the test part has is refused.
  write_rgb(root + "/test/zebra/0.png", 0, 8, 8);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root).train(false)), "zebra", "training part");
}

TEST_CASE("image-folder limit takes a seeded class-stratified subset", "[data][image_folder]") {
  const auto root = hwnas::test::temp_dir("imgf_limit");
  for (int i = 0; i < 30; ++i) write_rgb(root + "/" + (i < 20 ? "a" : "b") + "/" + std::to_string(100 + i) + ".png", i, 4, 4);
  const auto d = load_image_folder(raw(root, 4).limit(9).seed(3));
  REQUIRE(d.size() == 9);
  CHECK(d.labels.eq(0).sum().item<int64_t>() == 6);  // 2/3 of 9
  const auto again = load_image_folder(raw(root, 4).limit(9).seed(3));
  CHECK(torch::equal(d.images, again.images));
  const auto other = load_image_folder(raw(root, 4).limit(9).seed(4));
  CHECK_FALSE(torch::equal(d.images, other.images));
}

TEST_CASE("image-folder refuses bad folders and images naming them, and skip_bad_images counts them", "[data][image_folder]") {
  const auto root = hwnas::test::temp_dir("imgf_bad");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root + "/nope")), "nope", "does not exist");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "no class folders");
  write_rgb(root + "/loose.png", 0, 8, 8);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "top level", "loose.png", "<class>");
  fs::remove(root + "/loose.png");
  fs::create_directories(root + "/empty");
  write_rgb(root + "/ok/0.png", 0, 8, 8);
  write_rgb(root + "/ok/1.jpg", 1, 8, 8);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "empty", "holds no images");
  write_bytes(root + "/empty/junk.png", "this is text, not an image");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "junk.png", "not a PNG, JPEG, BMP or WebP",
                          "--skip-bad-images");
  // A format OpenCV reads but hwnas does not hand it (a TIFF header).
  write_bytes(root + "/empty/junk.png", std::string("II*\0", 4) + std::string(100, '\0'));
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "junk.png", "not a PNG, JPEG, BMP or WebP");
  // A PNG with one byte changed fails its chunk checksum; a cut one is truncated.
  auto png = file_bytes(root + "/ok/0.png");
  png[40] = static_cast<char>(png[40] ^ 1);
  write_bytes(root + "/empty/junk.png", png);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "junk.png", "damaged PNG", "checksum");
  write_bytes(root + "/empty/junk.png", png.substr(0, 30));
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "junk.png", "damaged PNG", "truncated");
  fs::remove(root + "/empty/junk.png");
  const auto jpeg = file_bytes(root + "/ok/1.jpg");
  write_bytes(root + "/empty/cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "cut.jpg", "truncated");
  write_bytes(root + "/ok/2.png", file_bytes(root + "/ok/0.png").substr(0, png.size() / 2));
  write_bytes(root + "/ok/3.png", "");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root)), "cut.jpg");  // the first in folder order
  const auto kept = load_image_folder(raw(root).skip_bad_images(true));
  CHECK(kept.size() == 2);
  CHECK(kept.skipped == 3);
  CHECK(kept.num_classes == 2);
  // No test part without root/train/.
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load_image_folder(raw(root).train(false)), "no test part", "/test/<class>/");
  // Options are checked by name.
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, load_image_folder(raw(root).channels(2)), "\"channels\"", "2");
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, load_image_folder(raw(root).mean({0.5}).std({0.5})), "per channel");
  hwnas::data::DataRequest q;
  q.dir(root);
  REQUIRE_THROWS_WITH_ALL(hwnas::ConfigError, hwnas::data::load_dataset("image-folder", {{"normalize", "yes"}}, q),
                          "\"normalize\"");
}

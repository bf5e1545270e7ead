// The input contract travels with the model: outside clients (Python PyTorch and OpenCV,
// and examples/run_exported.cpp in C++; no hwnas code) prepare raw JPEG files from
// model.json alone and get hwnas's class for every one, and so the test accuracy hwnas
// reported.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "cli/cli_util.h"
#include "export/export_util.h"
#include "hwnas/core/io.h"
#include "hwnas/core/json.h"
#include "hwnas/data/registry.h"
#include "hwnas/train/trained_run.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace hwnas::test {
// examples/run_exported, or "" when the examples are not built (tests/CMakeLists.txt).
const std::string& run_exported_exe();
}  // namespace hwnas::test

namespace {

// Class k: a colour gradient in its own direction plus noise, at a random size from 12 to
// 40 pixels a side, so that resizing and cropping both happen.
void write_class_images(const std::string& dir, int k, int count, cv::RNG& rng) {
  fs::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    const int h = rng.uniform(12, 41), w = rng.uniform(12, 41);
    cv::Mat m(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const double t = k == 0 ? double(x) / w : k == 1 ? double(y) / h : double(x + y) / (w + h);
        for (int c = 0; c < 3; ++c)
          m.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uint8_t>(255 * (c == k ? t : 1 - t) + rng.gaussian(40));
      }
    std::vector<uchar> jpeg;
    REQUIRE(cv::imencode(".jpg", m, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85}));
    std::ofstream(dir + "/" + std::to_string(1000 + i) + ".jpg", std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
  }
}

}  // namespace

TEST_CASE("model.json's input contract lets Python reproduce hwnas's class for 1,020 raw JPEGs",
          "[export][python][data]") {
  const auto dir = hwnas::test::temp_dir("input_contract");
  const auto data = dir + "/images";
  cv::RNG rng(12345);
  const char* classes[] = {"horizontal", "vertical", "diagonal"};
  for (int k = 0; k < 3; ++k) {
    write_class_images(data + "/train/" + classes[k], k, 40, rng);
    write_class_images(data + "/test/" + classes[k], k, 340, rng);
  }
  const std::string data_config = R"({"size": 16, "resize": "crop", "interpolation": "area"})";
  const auto run = dir + "/run";
  const auto trained = hwnas::test::run_cli(
      {"train", "--space", "nb201", "--space-config", R"({"channels": 4, "cells_per_stage": 1})", "--arch",
       "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", "--data",
       "image-folder", "--data-dir", data, "--data-config", data_config, "--epochs", "2", "--batch-size", "30",
       "--no-progress", "-o", run});
  INFO(trained.out << trained.err);
  REQUIRE(trained.code == 0);
  const auto exported = hwnas::test::run_cli({"export", "--run", run, "--format", "torchscript"});
  INFO(exported.out << exported.err);
  REQUIRE(exported.code == 0);
  const auto meta = hwnas::read_json_file(run + "/export/model.json", "model.json");
  const auto& input = meta.at("input");
  CHECK(input.at("classes") == nlohmann::json({"diagonal", "horizontal", "vertical"}));
  CHECK(input.at("normalize").at("mean").size() == 3);
  CHECK(input.at("preprocessing").at("resize") == "crop");

  // hwnas's classes: its own loader (the test part normalised as training was) and network.
  const auto summary = hwnas::read_json_file(run + "/train.json", "train.json");
  hwnas::data::DataRequest q;
  q.dir(data);
  q.train(false);
  q.train_input(summary.at("data").at("input"));
  const auto test = hwnas::data::load_dataset("image-folder", nlohmann::json::parse(data_config), q);
  REQUIRE(test.size() == 1020);
  auto net = hwnas::train::TrainedRun::open(run).network();
  torch::NoGradGuard no_grad;
  const auto ours = net->forward(test.images).argmax(1);

  const auto out = hwnas::test::run_command("/usr/bin/python3 " + hwnas::test::source_dir() +
                                            "/tests/export/contract_client.py " + run + "/export " + data + "/test");
  const auto client = hwnas::test::last_json(out);
  const auto predicted = client.at("predicted").get<std::vector<int64_t>>();
  REQUIRE(predicted.size() == 1020);
  int64_t same = 0;
  for (size_t i = 0; i < predicted.size(); ++i) same += predicted[i] == ours[static_cast<int64_t>(i)].item<int64_t>();
  CHECK(same == 1020);
  CHECK(client.at("labels").get<std::vector<int64_t>>() ==
        std::vector<int64_t>(test.labels.data_ptr<int64_t>(), test.labels.data_ptr<int64_t>() + 1020));
  CHECK(client.at("accuracy").get<double>() == Approx(summary.at("result").at("test_accuracy").get<double>()).margin(1e-9));
  CHECK(client.at("accuracy").get<double>() > 0.5);  // the classes are learnable: a real model, not a constant

  // The C++ deployer of examples/run_exported.cpp (LibTorch and OpenCV, no hwnas) agrees.
  if (!hwnas::test::run_exported_exe().empty()) {
    const auto cpp = hwnas::test::last_json(
        hwnas::test::run_command(hwnas::test::run_exported_exe() + " " + run + "/export " + data + "/test --json"));
    CHECK(cpp.at("predicted") == client.at("predicted"));
    CHECK(cpp.at("labels") == client.at("labels"));
    CHECK(cpp.at("accuracy").get<double>() == Approx(summary.at("result").at("test_accuracy").get<double>()).margin(1e-9));
  }
}

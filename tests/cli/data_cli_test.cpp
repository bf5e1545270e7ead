// The data options through the real commands: quickstart on a user's image folder, and
// --skip-bad-images counted in a trained run's summary.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli/cli_util.h"
#include "hwnas/core/json.h"
#include "test_util.h"

namespace fs = std::filesystem;
using hwnas::test::run_cli;

namespace {

// root/{train,test}/<class>/ of PNGs, each class a colour, at random sizes.
std::string colour_folder(const std::string& name, int train, int test) {
  const auto root = hwnas::test::temp_dir(name);
  cv::RNG rng(7);
  const char* classes[] = {"blue", "green", "red"};
  for (const auto& [part, n] : {std::pair{"train", train}, std::pair{"test", test}})
    for (int k = 0; k < 3; ++k) {
      const auto dir = root + "/" + part + "/" + classes[k];
      fs::create_directories(dir);
      for (int i = 0; i < n; ++i) {
        cv::Mat m(rng.uniform(10, 30), rng.uniform(10, 30), CV_8UC3);
        rng.fill(m, cv::RNG::UNIFORM, 0, 90);
        m.forEach<cv::Vec3b>([k](cv::Vec3b& p, const int*) { p[k] = cv::saturate_cast<uint8_t>(p[k] + 150); });
        REQUIRE(cv::imwrite(dir + "/" + std::to_string(i) + ".png", m));
      }
    }
  return root;
}

}  // namespace

TEST_CASE("hwnas quickstart --data image-folder runs the whole path on a user's folder", "[cli][data][quickstart]") {
  const auto data = colour_folder("quickstart_images", 40, 10);
  const auto out = hwnas::test::temp_dir("quickstart_images_run");
  const auto r = run_cli({"quickstart", "--data", "image-folder", "--data-dir", data, "--data-config", R"({"size": 12})",
                          "-n", "2", "--search-steps", "5", "--epochs", "1", "--budget", "1.0", "--no-progress", "-o", out});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("image-folder (120 training, 30 test samples, 3x12x12, 3 classes)") != std::string::npos);
  const auto search = hwnas::read_json_file(out + "/search.json", "search.json");
  CHECK(search.at("space").at("config").at("input_channels") == 3);
  CHECK(search.at("space").at("config").at("input_size") == 12);
  CHECK(search.at("space").at("config").at("num_classes") == 3);
  CHECK(search.at("evaluator").at("data").at("name") == "image-folder");
  CHECK(search.at("evaluator").at("data").at("train_size") == 100);  // 120 less the validation sixth
  CHECK(search.at("evaluator").at("data").at("valid_size") == 20);
  const auto model = hwnas::read_json_file(out + "/winner/export/model.json", "model.json");
  CHECK(model.at("input").at("classes") == nlohmann::json({"blue", "green", "red"}));
  CHECK(model.at("input").at("preprocessing").at("size") == 12);
  const auto summary = hwnas::read_json_file(out + "/summary.json", "summary.json");
  CHECK(summary.at("models").size() == 2);
}

TEST_CASE("Skipping bad images (--skip-bad-images) leaves them out and counts them in train.json", "[cli][data]") {
  const auto data = colour_folder("skip_images", 6, 3);
  std::ofstream(data + "/train/red/broken.png") << "not an image";
  std::ofstream(data + "/test/blue/empty.jpg");
  const auto out = hwnas::test::temp_dir("skip_images_run") + "/run";
  const std::vector<std::string> train{"train", "--arch", "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
                                       "--space-config", R"({"channels": 4, "cells_per_stage": 1})", "--data",
                                       "image-folder", "--data-dir", data, "--data-config", R"({"size": 8})",
                                       "--epochs", "1", "--no-progress", "-o", out};
  const auto refused = run_cli(train);
  CHECK(refused.code == 2);
  CHECK(refused.err.find("broken.png") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  auto skipping = train;
  skipping.push_back("--skip-bad-images");
  const auto r = run_cli(skipping);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const auto summary = hwnas::read_json_file(out + "/train.json", "train.json");
  CHECK(summary.at("data").at("skipped") == 2);
  CHECK(summary.at("data").at("train_size") == 18);
  CHECK(summary.at("data").at("test_size") == 9);
}

TEST_CASE("A streamed image folder goes through proxies, evaluate, train-supernet and a one-shot search",
          "[cli][data]") {
  const auto data = colour_folder("streamed_images", 30, 6);
  const auto d = hwnas::test::temp_dir("streamed_images_runs");
  const std::string data_config = R"({"size": 12, "cache": "stream"})";
  const std::string space_config = R"({"channels": 4, "cells_per_stage": 1})";
  auto r = run_cli({"proxies", "--space-config", space_config, "--data", "image-folder", "--data-dir", data,
                    "--data-config", data_config, "--train-size", "32", "-c", R"({"batch_size": 16})", "-n", "2", "-o",
                    d + "/proxies.csv"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(hwnas::test::lines_in(d + "/proxies.csv") == 3);
  r = run_cli({"evaluate", "--space-config", space_config, "--data", "image-folder", "--data-dir", data, "--data-config",
               data_config, "--train-size", "60", "--valid-size", "30", "-c", R"({"steps": 3, "batch_size": 16})", "-n",
               "2", "-o", d + "/short.csv"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(hwnas::test::lines_in(d + "/short.csv") == 3);
  r = run_cli({"train-supernet", "--space-config", space_config, "--data", "image-folder", "--data-dir", data,
               "--data-config", data_config, "--train-size", "48", "--options", R"({"epochs": 1, "batch_size": 16})",
               "--no-progress", "--out", d + "/supernet.pt"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const nlohmann::json config = {
      {"space", {{"name", "nb201"}, {"config", nlohmann::json::parse(space_config)}}},
      {"strategy", {{"name", "gdas"}, {"epochs", 1}, {"steps_per_epoch", 2}, {"batch_size", 16}}},
      {"evaluator",
       {{"name", "none"},
        {"data", {{"name", "image-folder"}, {"dir", data}, {"config", nlohmann::json::parse(data_config)},
                  {"train_size", 60}, {"valid_size", 30}}}}},
      {"objectives", {{{"metric", "params"}, {"goal", "min"}}}},
      {"output", d + "/gdas"}};
  std::ofstream(d + "/gdas.json") << config.dump();
  r = run_cli({"search", "-c", d + "/gdas.json", "--no-progress"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(fs::exists(d + "/gdas/best.json"));
}

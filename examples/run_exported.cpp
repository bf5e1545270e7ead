// Run a model exported by hwnas with no hwnas code: this program links LibTorch, and
// OpenCV to decode images; it reads model.json with nlohmann-json.
//
//   run_exported model.pt                  a random batch through the model (the file
//                                          export_model wrote: 1 x 28 x 28 inputs)
//   run_exported EXPORT_DIR IMAGE_ROOT     classify raw image files, preparing each one
//                [--json]                  from EXPORT_DIR/model.json's "input" alone
//
// IMAGE_ROOT holds one folder per class, named as model.json's input.classes lists them
// (e.g. the test/ part of the image folder the model was trained on); the program prints
// the accuracy, which is the test accuracy `hwnas train` reported for that folder.
// docs/deployment.md explains each step of prepare().
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/script.h>

namespace fs = std::filesystem;

namespace {

int random_batch(const std::string& model_file) {
  torch::jit::Module model = torch::jit::load(model_file);
  model.eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({4, 1, 28, 28});  // a batch of 4 Fashion-MNIST-sized images
  const auto logits = model.forward({x}).toTensor();
  const auto classes = logits.argmax(1);
  std::cout << "logits " << logits.sizes() << ", predicted classes";
  for (int64_t i = 0; i < classes.size(0); ++i) std::cout << " " << classes[i].item<int64_t>();
  std::cout << "\n";
  return logits.size(0) == 4 ? 0 : 1;
}

int interpolation(const std::string& name) {
  if (name == "INTER_AREA") return cv::INTER_AREA;
  if (name == "INTER_LINEAR") return cv::INTER_LINEAR;
  if (name == "INTER_CUBIC") return cv::INTER_CUBIC;
  if (name == "INTER_NEAREST") return cv::INTER_NEAREST;
  throw std::runtime_error("model.json names interpolation '" + name + "', which this program does not know");
}

// One raw image file as the network's input, C x H x W float32, following the contract:
// decode as stored, 16 bits to 8, convert to the channels, resize (stretch, or the shorter
// side to `size` and the centre cut), then x[c] = (pixel[c] / divisor - mean[c]) / std[c].
torch::Tensor prepare(const std::string& path, const nlohmann::json& contract) {
  const auto& p = contract.at("preprocessing");
  const int size = p.at("size").get<int>();
  const int channels = contract.at("channels").get<int>();
  std::ifstream in(path, std::ios::binary);
  const std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  cv::Mat img = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  if (img.empty()) throw std::runtime_error("'" + path + "' cannot be decoded");
  if (img.depth() == CV_16U) img.convertTo(img, CV_8U, 1.0 / 257.0);
  const int c = img.channels();
  if (channels == 3) {
    cv::cvtColor(img, img, c == 1 ? cv::COLOR_GRAY2RGB : c == 3 ? cv::COLOR_BGR2RGB : cv::COLOR_BGRA2RGB);
  } else if (c != 1) {
    cv::cvtColor(img, img, c == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
  }
  const int interp = interpolation(p.at("opencv_interpolation").get<std::string>());
  if (img.rows != size || img.cols != size) {
    if (p.at("resize") == "stretch") {
      cv::resize(img, img, cv::Size(size, size), 0, 0, interp);
    } else {
      const int64_t w = img.cols, h = img.rows;
      const int nw = static_cast<int>(w <= h ? size : std::max<int64_t>(size, size * w / h));
      const int nh = static_cast<int>(h <= w ? size : std::max<int64_t>(size, size * h / w));
      if (nw != img.cols || nh != img.rows) cv::resize(img, img, cv::Size(nw, nh), 0, 0, interp);
      img = img(cv::Rect((img.cols - size) / 2, (img.rows - size) / 2, size, size)).clone();
    }
  }
  auto x = torch::from_blob(img.data, {size, size, channels}, torch::kUInt8)
               .permute({2, 0, 1})
               .to(torch::kFloat32)
               .div_(contract.at("divisor").get<double>());
  const auto& norm = contract.at("normalize");
  if (!norm.is_null()) {
    const auto mean = torch::tensor(norm.at("mean").get<std::vector<double>>(), torch::kFloat64).to(torch::kFloat32);
    const auto stdev = torch::tensor(norm.at("std").get<std::vector<double>>(), torch::kFloat64).to(torch::kFloat32);
    x.sub_(mean.view({-1, 1, 1})).div_(stdev.view({-1, 1, 1}));
  }
  return x;
}

int classify(const std::string& export_dir, const std::string& root, bool json) {
  std::ifstream meta_in(fs::path(export_dir) / "model.json");
  if (!meta_in) throw std::runtime_error("no model.json in '" + export_dir + "'; give the folder `hwnas export` wrote");
  const auto meta = nlohmann::json::parse(meta_in);
  const auto& contract = meta.at("input");
  if (!contract.contains("preprocessing") || contract.at("preprocessing").is_null())
    throw std::runtime_error("model.json's input is not made from image files (no \"preprocessing\"); its raw values are "
                             "the stored arrays: " + contract.value("raw", std::string("?")));
  torch::jit::Module model = torch::jit::load((fs::path(export_dir) / meta.at("files").at("torchscript").at("file").get<std::string>()).string());
  model.eval();
  torch::NoGradGuard no_grad;

  // The files of each class, in name order, labelled by the class's place in the list.
  const auto classes = contract.at("classes").get<std::vector<std::string>>();
  const std::vector<std::string> extensions{".png", ".jpg", ".jpeg", ".bmp", ".webp"};
  std::vector<std::string> files;
  std::vector<int64_t> labels;
  for (size_t k = 0; k < classes.size(); ++k) {
    const fs::path dir = fs::path(root) / classes[k];
    if (!fs::is_directory(dir)) continue;
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink)) {
      auto ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (e.is_regular_file() && std::find(extensions.begin(), extensions.end(), ext) != extensions.end())
        found.push_back(e.path().string());
    }
    std::sort(found.begin(), found.end());
    for (auto& f : found) files.push_back(std::move(f)), labels.push_back(static_cast<int64_t>(k));
  }
  if (files.empty()) throw std::runtime_error("no images under '" + root + "' in folders named as the classes of model.json");

  std::vector<int64_t> predicted;
  for (size_t begin = 0; begin < files.size(); begin += 128) {
    std::vector<torch::Tensor> batch;
    for (size_t i = begin; i < std::min(files.size(), begin + 128); ++i) batch.push_back(prepare(files[i], contract));
    const auto classes_of = model.forward({torch::stack(batch)}).toTensor().argmax(1);
    for (int64_t i = 0; i < classes_of.size(0); ++i) predicted.push_back(classes_of[i].item<int64_t>());
  }
  int64_t correct = 0;
  for (size_t i = 0; i < files.size(); ++i) correct += predicted[i] == labels[i];
  const double accuracy = static_cast<double>(correct) / static_cast<double>(files.size());
  if (json) {
    std::cout << nlohmann::json{{"files", files}, {"predicted", predicted}, {"labels", labels}, {"accuracy", accuracy}}.dump()
              << "\n";
  } else {
    std::cout << files.size() << " images of " << classes.size() << " classes: accuracy " << accuracy << " (" << correct
              << " correct)\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
  std::vector<std::string> positional;
  for (const auto& a : args)
    if (a != "--json") positional.push_back(a);
  if (positional.empty() || positional.size() > 2) {
    std::cerr << "usage: run_exported model.pt\n       run_exported EXPORT_DIR IMAGE_ROOT [--json]\n";
    return 2;
  }
  try {
    return positional.size() == 1 ? random_batch(positional[0]) : classify(positional[0], positional[1], json);
  } catch (const c10::Error& e) {
    std::cerr << "run_exported: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "run_exported: " << e.what() << "\n";
    return 1;
  }
}

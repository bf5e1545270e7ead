#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include <torch/torch.h>

#include "hwnas/data/registry.h"
#include "hwnas/data/tensor_file.h"
#include "test_util.h"

using hwnas::ConfigError;
using hwnas::DataError;
using hwnas::data::load_dataset;
using hwnas::data::load_tensor_file;
using hwnas::data::TensorFileOptions;

namespace {

void python(const std::string& script) {
  REQUIRE(std::system(("/usr/bin/python3 -c \"import torch\n" + script + "\"").c_str()) == 0);
}

hwnas::data::DataRequest request(const std::string& dir, bool train) {
  hwnas::data::DataRequest q;
  q.dir(dir);
  q.train(train);
  return q;
}

}  // namespace

TEST_CASE("The tensors dataset reads what Python's torch.save wrote, exactly", "[data][tensors][python]") {
  const auto dir = hwnas::test::temp_dir("tensors_python");
  // uint8 N x C x H x W; float N x H x W stored as a view of a larger tensor (an offset).
  python("d = '" + dir + "'\n"
         "x = (torch.arange(4 * 3 * 2 * 2) * 7 % 251).to(torch.uint8).reshape(4, 3, 2, 2)\n"
         "torch.save({'images': x, 'labels': torch.tensor([2, 0, 1, 1])}, d + '/train.pt')\n"
         "f = torch.arange(5 * 2 * 2, dtype=torch.float32).reshape(5, 2, 2) / 8\n"
         "torch.save({'images': f[1:4], 'labels': torch.tensor([1, 0, 1], dtype=torch.int32)}, d + '/test.pt')");
  const auto train = load_dataset("tensors", {}, request(dir, true));
  REQUIRE(train.images.sizes() == torch::IntArrayRef({4, 3, 2, 2}));
  const auto bytes = (train.images * 255).round().to(torch::kLong).flatten();
  for (int64_t i = 0; i < bytes.numel(); ++i) REQUIRE(bytes[i].item<int64_t>() == i * 7 % 251);
  CHECK(train.labels[0].item<int64_t>() == 2);
  CHECK(train.num_classes == 3);
  CHECK(train.input.at("divisor") == 255);
  const auto test = load_dataset("tensors", {}, request(dir, false));
  REQUIRE(test.images.sizes() == torch::IntArrayRef({3, 1, 2, 2}));
  CHECK(test.images[0][0][0][0].item<float>() == 4.0f / 8);  // element 4: the view's offset is kept
  CHECK(test.num_classes == 3);                               // from the training labels
  // Given the training part's contract, the test part does not read train.pt again.
  CHECK(train.input.at("num_classes") == 3);
  auto q = request(dir, false);
  q.train_input(train.input);
  q.train_input()["num_classes"] = 5;
  CHECK(load_dataset("tensors", {}, q).num_classes == 5);
  CHECK(load_dataset("tensors", {}, [&] { auto q = request(dir, true); q.limit(2); return q; }()).size() == 2);
}

TEST_CASE("save_tensor_file writes what Python's torch.load reads", "[data][tensors][python]") {
  const auto dir = hwnas::test::temp_dir("tensors_save");
  const auto images = torch::arange(2 * 1 * 3 * 3, torch::kFloat32).reshape({2, 1, 3, 3});
  hwnas::data::save_tensor_file(dir + "/train.pt", images, torch::tensor({1, 0}));
  python("d = torch.load('" + dir + "/train.pt')\n"
         "assert d['images'].shape == (2, 1, 3, 3) and d['images'][1, 0, 2, 2].item() == 17.0, d\n"
         "assert d['labels'].tolist() == [1, 0] and d['labels'].dtype == torch.int64, d");
  const auto back = load_tensor_file(TensorFileOptions().path(dir + "/train.pt"));
  CHECK(torch::equal(back.images, images));
}

TEST_CASE("Bad tensor files are refused naming the file and the fault", "[data][tensors][python]") {
  const auto dir = hwnas::test::temp_dir("tensors_bad");
  python("d = '" + dir + "/'\n"
         "x = torch.zeros(3, 1, 2, 2)\n"
         "torch.save({'pixels': x, 'labels': torch.tensor([0, 1, 0])}, d + 'nokey.pt')\n"
         "torch.save({'images': x, 'labels': torch.tensor([0.0, 1.0, 0.0])}, d + 'floatlabels.pt')\n"
         "torch.save({'images': x.to(torch.int32), 'labels': torch.tensor([0, 1, 0])}, d + 'intimages.pt')\n"
         "torch.save({'images': x, 'labels': torch.tensor([0, 1])}, d + 'count.pt')\n"
         "torch.save({'images': x, 'labels': torch.tensor([0, -1, 0])}, d + 'negative.pt')\n"
         "torch.save({'images': x, 'labels': [0, 1, 0]}, d + 'list.pt')\n"
         "torch.save(x, d + 'tensor.pt')\n"
         "import numpy, zipfile\n"
         "torch.save({'images': numpy.zeros((3, 1, 2, 2)), 'labels': torch.tensor([0, 1, 0])}, d + 'numpy.pt')\n"
         "torch.save({'images': torch.zeros(1, 1, 2, 2).expand(3, 1, 2, 2), 'labels': torch.tensor([0, 1, 0])}, d + 'expanded.pt')\n"
         "src = zipfile.ZipFile(d + 'count.pt')\n"
         "with zipfile.ZipFile(d + 'deflated.pt', 'w', zipfile.ZIP_DEFLATED) as z:\n"
         "    [z.writestr(n, src.read(n)) for n in src.namelist()]\n"
         "b = bytearray(open(d + 'count.pt', 'rb').read()); i = b.index(b'count/data/0') + 100; b[i] ^= 1\n"
         "open(d + 'flipped.pt', 'wb').write(b)");
  std::ofstream(dir + "/garbage.pt") << "PK\x03\x04 not a zip archive";
  const auto load = [&](const std::string& name) { return load_tensor_file(TensorFileOptions().path(dir + "/" + name)); };
  REQUIRE_THROWS_WITH_ALL(DataError, load("nokey.pt"), "nokey.pt", "no \"images\"", "torch.save");
  REQUIRE_THROWS_WITH_ALL(DataError, load("floatlabels.pt"), "floatlabels.pt", "whole numbers", "Float");
  REQUIRE_THROWS_WITH_ALL(DataError, load("intimages.pt"), "intimages.pt", "Int", "uint8");
  REQUIRE_THROWS_WITH_ALL(DataError, load("count.pt"), "count.pt", "3 images", "2 labels");
  REQUIRE_THROWS_WITH_ALL(DataError, load("negative.pt"), "negative.pt", "labels -1..0");
  REQUIRE_THROWS_WITH_ALL(DataError, load("list.pt"), "list.pt", "\"labels\" is a list", "not a tensor");
  REQUIRE_THROWS_WITH_ALL(DataError, load("tensor.pt"), "tensor.pt", "holds a tensor, not a dict");
  REQUIRE_THROWS_WITH_ALL(DataError, load("garbage.pt"), "garbage.pt", "not a zip archive");
  REQUIRE_THROWS_WITH_ALL(DataError, load("numpy.pt"), "numpy.pt", "numpy", "torch.from_numpy");
  REQUIRE_THROWS_WITH_ALL(DataError, load("expanded.pt"), "expanded.pt", "outside its storage", "contiguous()");
  REQUIRE_THROWS_WITH_ALL(DataError, load("deflated.pt"), "deflated.pt", "compressed");
  REQUIRE_THROWS_WITH_ALL(DataError, load("flipped.pt"), "flipped.pt", "checksum");
  REQUIRE_THROWS_WITH_ALL(DataError, load("missing.pt"), "missing.pt", "missing");
  REQUIRE_THROWS_WITH_ALL(DataError, load_tensor_file(TensorFileOptions().path(dir + "/count.pt").max_bytes(100)),
                          "count.pt", "more than the 100", "npy");
  REQUIRE_THROWS_WITH_ALL(ConfigError, load_dataset("tensors", {}, request("", true)), "needs --data-dir");
}

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "hwnas/data/npy.h"
#include "hwnas/data/registry.h"
#include "test_util.h"

using namespace hwnas;
using namespace hwnas::data;

namespace {

// A version 1.0 .npy file as numpy.save writes it: magic, header padded to 64 bytes, data.
void write_npy(const std::string& path, const std::string& descr, const std::string& shape, const void* data,
               size_t bytes, const std::string& fortran = "False") {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  f.put(static_cast<char>(header.size() & 0xff));
  f.put(static_cast<char>(header.size() >> 8));
  f << header;
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
}

DataRequest request(const std::string& dir, bool train, int64_t limit = 0) {
  DataRequest q;
  q.dir(dir);
  q.train(train);
  q.limit(limit);
  return q;
}

}  // namespace

TEST_CASE("NumPy .npy files read exactly, the first rows only when asked", "[data][npy]") {
  const auto dir = test::temp_dir("npy_read");
  std::vector<float> f(2 * 3);
  for (size_t i = 0; i < f.size(); ++i) f[i] = 0.5f * static_cast<float>(i) - 1;
  write_npy(dir + "/f.npy", "<f4", "(2, 3)", f.data(), f.size() * 4);
  const auto h = read_npy_header(dir + "/f.npy");
  CHECK(h.dtype == "f4");
  CHECK(h.shape == std::vector<int64_t>{2, 3});
  CHECK(h.data_offset == 128);  // the header padded to a multiple of 64 bytes
  const auto t = load_npy(dir + "/f.npy");
  REQUIRE(t.sizes() == torch::IntArrayRef({2, 3}));
  CHECK(t[1][2].item<float>() == 1.5f);
  CHECK(load_npy(dir + "/f.npy", 1).sizes() == torch::IntArrayRef({1, 3}));
  const std::vector<int64_t> l{3, 0, 7};
  write_npy(dir + "/l.npy", "<i8", "(3,)", l.data(), 24);
  CHECK(load_npy(dir + "/l.npy")[2].item<int64_t>() == 7);
}

TEST_CASE("NumPy files are refused naming the file and the fault", "[data][npy]") {
  const auto dir = test::temp_dir("npy_bad");
  const std::vector<float> f(6, 1.0f);
  write_npy(dir + "/short.npy", "<f4", "(2, 4)", f.data(), f.size() * 4);
  REQUIRE_THROWS_WITH_ALL(DataError, load_npy(dir + "/short.npy"), "short.npy", "truncated", "32 bytes", "24 follow");
  write_npy(dir + "/fortran.npy", "<f4", "(2, 3)", f.data(), f.size() * 4, "True");
  REQUIRE_THROWS_WITH_ALL(DataError, load_npy(dir + "/fortran.npy"), "fortran.npy", "Fortran order", "C order");
  write_npy(dir + "/big.npy", ">f4", "(2, 3)", f.data(), f.size() * 4);
  REQUIRE_THROWS_WITH_ALL(DataError, load_npy(dir + "/big.npy"), "big.npy", "big-endian", "astype");
  write_npy(dir + "/complex.npy", "<c8", "(3,)", f.data(), f.size() * 4);
  REQUIRE_THROWS_WITH_ALL(DataError, load_npy(dir + "/complex.npy"), "'<c8'", "f4");
  std::ofstream(dir + "/text.npy") << "arch,acc\n";
  REQUIRE_THROWS_WITH_ALL(DataError, load_npy(dir + "/text.npy"), "text.npy", "not a NumPy .npy file");
  REQUIRE_THROWS_WITH_ALL(DataError, load_npy(dir + "/none.npy"), "none.npy", "missing");
}

TEST_CASE("The npy dataset reads image and label files, checked", "[data][npy][registry]") {
  const auto dir = test::temp_dir("npy_dataset");
  std::vector<uint8_t> pixels(5 * 4 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 3);
  const std::vector<int64_t> labels{0, 1, 2, 1, 0};
  write_npy(dir + "/train_images.npy", "|u1", "(5, 4, 4)", pixels.data(), pixels.size());
  write_npy(dir + "/train_labels.npy", "<i8", "(5,)", labels.data(), 40);
  write_npy(dir + "/test_images.npy", "|u1", "(2, 4, 4)", pixels.data(), 32);
  const std::vector<int32_t> test_labels{2, 3};
  write_npy(dir + "/test_labels.npy", "<i4", "(2,)", test_labels.data(), 8);
  const auto train = load_dataset("npy", {}, request(dir, true, 4));
  REQUIRE(train.images.sizes() == torch::IntArrayRef({4, 1, 4, 4}));
  CHECK(train.num_classes == 3);
  CHECK(std::lround(train.images[3][0][2][1].item<float>() * 255) == (3 * 16 + 2 * 4 + 1) * 3 % 256);
  // The test part's label 3 is beyond the classes of the training labels.
  REQUIRE_THROWS_WITH_ALL(DataError, load_dataset("npy", {}, request(dir, false)), "test_labels.npy", "labels 2..3",
                          "0..2", "training labels");
  CHECK(load_dataset("npy", {{"classes", 4}}, request(dir, false)).num_classes == 4);
  write_npy(dir + "/train_labels.npy", "<i8", "(4,)", labels.data(), 32);
  REQUIRE_THROWS_WITH_ALL(DataError, load_dataset("npy", {}, request(dir, true)), "5 images", "4 labels");
  REQUIRE_THROWS_WITH_ALL(ConfigError, load_dataset("npy", {}, request("", true)), "needs --data-dir");
}

TEST_CASE("The npy dataset reads what numpy.save wrote", "[data][npy][python]") {
  const auto dir = test::temp_dir("npy_numpy");
  const std::string script = "import numpy as np; d='" + dir + "'; "
                             "x = (np.arange(3 * 3 * 2 * 2) * 7 % 251).astype(np.uint8).reshape(3, 3, 2, 2); "
                             "np.save(d + '/train_images.npy', x); np.save(d + '/train_labels.npy', np.array([2, 0, 1]))";
  REQUIRE(std::system(("/usr/bin/python3 -c \"" + script + "\"").c_str()) == 0);
  const auto d = load_dataset("npy", {}, request(dir, true));
  REQUIRE(d.images.sizes() == torch::IntArrayRef({3, 3, 2, 2}));
  const auto bytes = (d.images * 255).round().to(torch::kLong).flatten();
  for (int64_t i = 0; i < bytes.numel(); ++i) REQUIRE(bytes[i].item<int64_t>() == i * 7 % 251);
  CHECK(d.labels[0].item<int64_t>() == 2);
  CHECK(d.num_classes == 3);
}

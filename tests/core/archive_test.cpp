#include <cstring>
#include <string>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "core/archive.h"
#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "test_util.h"

using hwnas::detail::TensorArchive;

namespace {

TensorArchive sample() {
  TensorArchive a;
  a.put("x", torch::arange(6, torch::kFloat32).reshape({2, 3}));
  a.put("mask", torch::tensor({true, false}));
  a.put_int("step", -7);
  a.put_double("lr", 0.125);
  a.put_string("meta", "{\"epoch\": 1}");
  return a;
}

std::string written(const std::string& path) {
  hwnas::detail::save_archive(sample(), "test-file", path);
  return hwnas::read_file(path, "archive");
}

void load(const std::string& path) { (void)hwnas::detail::load_archive("test-file", path, "write it again"); }

// The payload of one tensor entry, as the format in core/archive.h lays it out.
std::string tensor_entry(const std::string& name, uint8_t type, std::vector<int64_t> sizes, uint64_t bytes,
                         const std::string& data) {
  std::string s(1, '\x01');
  const auto n = static_cast<uint32_t>(name.size());
  s.append(reinterpret_cast<const char*>(&n), 4);
  s += name;
  s += static_cast<char>(type);
  s += static_cast<char>(sizes.size());
  for (const auto d : sizes) s.append(reinterpret_cast<const char*>(&d), 8);
  s.append(reinterpret_cast<const char*>(&bytes), 8);
  return s + data;
}

}  // namespace

TEST_CASE("Archive files round-trip tensors, scalars and strings behind their header", "[core][archive]") {
  const auto dir = hwnas::test::temp_dir("archive_round_trip");
  const auto bytes = written(dir + "/a.pt");
  const auto header = bytes.substr(0, bytes.find('\n') + 1);
  const auto payload = bytes.substr(header.size());
  // "hwnas-archive 1 test-file BYTES CHECKSUM\n", then the entries.
  CHECK(header.rfind("hwnas-archive 1 test-file " + std::to_string(payload.size()) + " ", 0) == 0);
  CHECK(header.size() == std::string("hwnas-archive 1 test-file  \n").size() + std::to_string(payload.size()).size() + 16);
  CHECK(header == hwnas::detail::archive_header("test-file", payload));
  // The first entry exactly as documented: tag, name, type, rank, sizes, byte count, data.
  std::string floats(24, '\0');
  const auto x = torch::arange(6, torch::kFloat32);
  std::memcpy(&floats[0], x.data_ptr(), 24);
  CHECK(payload.substr(0, 56) == tensor_entry("x", 1, {2, 3}, 24, floats));
  const auto a = hwnas::detail::load_archive("test-file", dir + "/a.pt", "");
  REQUIRE(a.tensor("x") != nullptr);
  CHECK(torch::equal(*a.tensor("x"), torch::arange(6, torch::kFloat32).reshape({2, 3})));
  CHECK(torch::equal(*a.tensor("mask"), torch::tensor({true, false})));
  int64_t step = 0;
  double lr = 0;
  CHECK((a.get_int("step", step) && step == -7));
  CHECK((a.get_double("lr", lr) && lr == 0.125));
  CHECK_FALSE(a.get_int("lr", step));  // a float64 is no int
  REQUIRE(a.string("meta") != nullptr);
  CHECK(*a.string("meta") == "{\"epoch\": 1}");
  CHECK(a.string("x") == nullptr);
  CHECK(a.tensor("missing") == nullptr);
  CHECK(a.serialize() == payload);  // the same bytes again
}

TEST_CASE("Archive files are refused by their header before their entries are read", "[core][archive]") {
  const auto dir = hwnas::test::temp_dir("archive_refused");
  const auto bytes = written(dir + "/a.pt");
  const auto eol = bytes.find('\n');
  const auto bad = [&](const std::string& name, const std::string& content) {
    hwnas::write_file_atomic(dir + "/" + name, content);
    return dir + "/" + name;
  };
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(dir + "/none.pt"), "No test file at", "none.pt", "write it again");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("empty.pt", "")), "empty.pt", "is empty");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("bare.pt", bytes.substr(eol + 1))), "bare.pt",
                          "not an hwnas archive file", "write it again");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("short.pt", bytes.substr(0, bytes.size() - 1))), "short.pt",
                          "truncated");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("long.pt", bytes + "x")), "long.pt", "appended");
  auto flipped = bytes;
  flipped[bytes.size() - 30] = static_cast<char>(flipped[bytes.size() - 30] ^ 0x10);
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("flip.pt", flipped)), "flip.pt", "damaged", "checksum");
  auto other = bytes;
  other.replace(other.find("test-file"), 9, "best-file");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("kind.pt", other)), "kind.pt", "holds a best file, not a test file");
  auto version = bytes;
  version.replace(version.find(" 1 "), 3, " 2 ");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("version.pt", version)), "archive version 2");
  auto size = bytes;
  size.replace(size.find(" test-file ") + 11, 1, "x");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, load(bad("size.pt", size)), "size.pt", "damaged header");
}

TEST_CASE("Archive entries behind a valid header are parsed with every length checked", "[core][archive]") {
  const auto parse = [](const std::string& payload) { (void)TensorArchive::parse(payload, "p.pt"); };
  const std::string four(4, '\0');
  CHECK_NOTHROW(parse(""));
  CHECK_NOTHROW(parse(tensor_entry("t", 1, {1}, 4, four)));
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse("\x03"), "p.pt", "unknown tag 3");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("t", 1, {1}, 4, "ab")), "p.pt", "runs past the end");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("t", 1, {2}, 4, four)), "'t'", "4 bytes for 2 elements");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("t", 99, {1}, 4, four)), "unknown element type 99");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("t", 1, {-1}, 4, four)), "the size -1");
  // Sizes whose product would overflow, or allocate more than the file holds.
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("t", 1, {int64_t{1} << 40, int64_t{1} << 40}, 0, "")),
                          "more than the file holds");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("t", 1, {0, int64_t{1} << 62}, 0, "")),
                          "more than the file holds");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("t", 1, {1}, 4, four) + tensor_entry("t", 1, {1}, 4, four)),
                          "'t' appears twice");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("b", 7, {1}, 1, "\x02")), "bool tensor 'b'");
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, parse(tensor_entry("", 1, {1}, 4, four)), "name is 0 bytes");
}

TEST_CASE("Modules load only from archives of their own shapes, and are left as they were otherwise",
          "[core][archive]") {
  torch::nn::Linear small(2, 3), big(2, 4);
  TensorArchive a;
  a.put_module("net/", *small);
  const auto before = big->weight.clone();
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, a.load_module("net/", *big, "w.pt"), "w.pt", "'net/weight'", "shape",
                          "another architecture");
  CHECK(torch::equal(big->weight, before));
  REQUIRE_THROWS_WITH_ALL(hwnas::DataError, a.load_module("other/", *small, "w.pt"), "has no 'other/weight'");
  torch::nn::Linear copy(2, 3);
  a.load_module("net/", *copy, "w.pt");
  CHECK(torch::equal(copy->weight, small->weight));
  CHECK(torch::equal(copy->bias, small->bias));
}

#pragma once
// Helpers shared by the tests.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "hwnas/core/error.h"
#include "hwnas/core/search_space.h"

/// Checks that `expr` throws ErrorType whose message contains every given fragment.
#define REQUIRE_THROWS_WITH_ALL(ErrorType, expr, ...)                                  \
  do {                                                                                 \
    bool hwnas_thrown = false;                                                         \
    try {                                                                              \
      (void)(expr);                                                                    \
    } catch (const ErrorType& e) {                                                     \
      hwnas_thrown = true;                                                             \
      const std::string hwnas_msg = e.what();                                          \
      for (const std::string& frag : std::initializer_list<std::string>{__VA_ARGS__}) {                                \
        INFO("message: " << hwnas_msg);                                                \
        CHECK(hwnas_msg.find(frag) != std::string::npos);                              \
      }                                                                                \
    }                                                                                  \
    INFO("expected " #ErrorType " from " #expr);                                       \
    REQUIRE(hwnas_thrown);                                                             \
  } while (false)

namespace hwnas::test {
/// Paths of this build (tests/CMakeLists.txt generates them into test_paths.cpp).
const std::string& data_dir();         // data/ in the source tree (OFA reference data)
const std::string& tmp_root();         // the build tree's test tmp dir
const std::string& source_dir();       // the source tree
const std::string& hwnas_exe();        // the built hwnas binary
/// A fresh empty folder under the build tree's test tmp dir.
std::string temp_dir(const std::string& name);
/// A CIFAR-10 binary folder in a fresh temporary folder: five training batches of
/// `per_batch` records, a test batch of `test` records; record r (training ones first, in
/// file order) has label r % 10 and pixel bytes cifar_pixel(r, c, y, x).
std::string cifar10_folder(const std::string& name, int per_batch, int test);
uint8_t cifar_pixel(int record, int c, int y, int x);
/// OFA's tutorial subnet (shared/data/ofa/README.md) as OFA's JSON, with arbitrary
/// settings in the inactive block slots (OFA's sampler fills them too).
nlohmann::json ofa_tutorial_subnet();
/// SearchSpace::layer_parts' contract for `arch`: the parts' layers for its genes,
/// concatenated, are layers(arch) (same keys and names, in order). Returns those layers.
std::vector<LayerSpec> require_parts_make_layers(const SearchSpace& space, const Arch& arch);
}  // namespace hwnas::test

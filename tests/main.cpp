#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <filesystem>

#include "test_util.h"

namespace hwnas::test {
std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::path(HWNAS_TEST_TMP) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}
}  // namespace hwnas::test

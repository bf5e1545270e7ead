#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <filesystem>

#include "test_util.h"

namespace hwnas::test {
std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::path(tmp_root()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

nlohmann::json ofa_tutorial_subnet() {
  const std::vector<std::vector<std::pair<int, int>>> stages = {
      {{5, 3}, {3, 3}}, {{5, 4}, {3, 4}}, {{7, 6}, {7, 3}, {3, 4}}, {{5, 4}, {5, 4}, {7, 4}, {3, 3}}, {{3, 6}, {3, 6}, {5, 6}}};
  nlohmann::json ks = nlohmann::json::array(), e = nlohmann::json::array();
  for (const auto& st : stages)
    for (size_t j = 0; j < 4; ++j) {
      ks.push_back(j < st.size() ? st[j].first : 7);
      e.push_back(j < st.size() ? st[j].second : 6);
    }
  return {{"ks", ks}, {"e", e}, {"d", {2, 2, 3, 4, 3}}, {"r", {192}}};
}
}  // namespace hwnas::test

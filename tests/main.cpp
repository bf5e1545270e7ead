#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace hwnas::test {
std::vector<LayerSpec> require_parts_make_layers(const SearchSpace& space, const Arch& arch) {
  std::vector<LayerSpec> joined;
  for (const auto& p : space.layer_parts()) {
    std::vector<int> values;
    for (int g : p.genes) values.push_back(arch.genes()[static_cast<size_t>(g)]);
    for (auto& l : p.layers(values)) joined.push_back(std::move(l));
  }
  auto layers = space.layers(arch);
  REQUIRE(joined.size() == layers.size());
  for (size_t i = 0; i < layers.size(); ++i) REQUIRE((joined[i].key() == layers[i].key() && joined[i].name == layers[i].name));
  return layers;
}

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::path(tmp_root()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

uint8_t cifar_pixel(int r, int c, int y, int x) { return static_cast<uint8_t>((r * 7 + c * 31 + y * 3 + x) % 256); }

std::string cifar10_folder(const std::string& name, int per_batch, int test) {
  const auto dir = temp_dir(name);
  const auto write = [](const std::string& path, int first, int n) {
    std::ofstream f(path, std::ios::binary);
    for (int r = first; r < first + n; ++r) {
      f.put(static_cast<char>(r % 10));
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x) f.put(static_cast<char>(cifar_pixel(r, c, y, x)));
    }
  };
  for (int b = 1; b <= 5; ++b) write(dir + "/data_batch_" + std::to_string(b) + ".bin", per_batch * (b - 1), per_batch);
  write(dir + "/test_batch.bin", 5 * per_batch, test);
  return dir;
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

#pragma once
// Shared by the export tests: small configurations of every built-in space, trained-looking
// networks, and running an outside client.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hwnas/core/search_space.h"
#include "hwnas/nn/network.h"

namespace hwnas::test {

inline const std::vector<std::pair<std::string, nlohmann::json>>& export_spaces() {
  static const std::vector<std::pair<std::string, nlohmann::json>> spaces = {
      {"nb201", {{"channels", 8}, {"cells_per_stage", 1}, {"input_channels", 1}, {"input_size", 28}}},
      {"darts", {{"channels", 8}, {"layers", 5}, {"input_channels", 1}, {"input_size", 28}}},
      {"mobilenet", {{"preset", "proxyless"}, {"input_size", 32}, {"num_classes", 10}}},
      {"ofa", {{"num_classes", 10}, {"resolutions", {32}}}},
  };
  return spaces;
}

/// A trained-looking network in eval mode: random BatchNorm statistics, so that eval mode
/// differs from the initial identity statistics.
inline std::shared_ptr<nn::Network> trained_looking(const SearchSpace& space, const Arch& arch) {
  torch::manual_seed(1);
  auto net = space.build(arch);
  torch::NoGradGuard no_grad;
  for (auto& b : net->named_buffers())
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
    else if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.5, 0.5);
  net->eval();
  return net;
}

/// Runs a shell command, REQUIREs exit status 0 and returns its output (stderr included).
inline std::string run_command(const std::string& command) {
  std::string out;
  std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = ::pclose(p);
  INFO(command << "\n" << out);
  REQUIRE(status == 0);
  return out;
}

/// The JSON a client printed on its last line.
inline nlohmann::json last_json(std::string out) {
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const auto nl = out.rfind('\n');
  return nlohmann::json::parse(nl == std::string::npos ? out : out.substr(nl + 1));
}

}  // namespace hwnas::test

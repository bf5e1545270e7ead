#include "trace.h"

#include <cctype>
#include <set>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/fixup_trace_scope_blocks.h>
#include <torch/csrc/jit/passes/normalize_ops.h>
#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas::exporting::detail {
namespace {

// A module path ("cells.3.edge0_nor_conv_3x3.bn.weight") as a TorchScript attribute name,
// which the saved code uses as a Python identifier: [A-Za-z0-9_], not starting with a digit,
// unique.
std::string attribute_name(const std::string& path, std::set<std::string>& taken) {
  std::string n;
  for (char ch : path) n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n.front()))) n = "p_" + n;
  std::string unique = n;
  for (int i = 2; !taken.insert(unique).second; ++i) unique = n + "_" + std::to_string(i);
  return unique;
}

}  // namespace

torch::Tensor example_input(const Shape& s, int64_t batch, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  return torch::randn({batch, s.c, s.h, s.w}, generator);
}

TracedNetwork trace_network(nn::Network& net, const Shape& input, int64_t batch, uint64_t seed) {
  HWNAS_CHECK_T(ConfigError, input.numel() > 0, "export: the input shape ", input.str(), " is empty");
  HWNAS_CHECK_T(ConfigError, batch >= 1, "export: the trace batch must be >= 1");
  net.eval();
  torch::NoGradGuard no_grad;
  // One attribute per parameter and buffer, the very tensors the network uses, so the
  // tracer records reads of them (prim::GetAttr), not constants.
  TracedNetwork out{torch::jit::Module("__torch__.hwnas.ExportedModel")};
  auto& module = out.module;
  module.register_attribute("training", c10::BoolType::get(), false);
  std::set<std::string> taken;
  for (const auto& p : net.named_parameters()) {
    module.register_parameter(attribute_name(p.key(), taken), p.value(), /*is_buffer=*/false);
    ++out.tensors;
  }
  for (const auto& b : net.named_buffers()) {
    module.register_buffer(attribute_name(b.key(), taken), b.value());
    ++out.tensors;
  }
  const auto x = example_input(input, batch, seed);
  auto forward = [&](torch::jit::Stack in) -> torch::jit::Stack { return {net.forward(in.at(0).toTensor())}; };
  auto traced = torch::jit::tracer::trace({x}, forward, [](const torch::autograd::Variable&) { return std::string(); },
                                          /*strict=*/true, /*force_outplace=*/false, &module, {"x"});
  auto graph = traced.first->graph;
  torch::jit::FixupTraceScopeBlocks(graph, &module);
  torch::jit::NormalizeOps(graph);
  auto fn = module._ivalue()->compilation_unit()->create_function(
      c10::QualifiedName(*module.type()->name(), "forward"), graph);
  module.type()->addMethod(fn);
  return out;
}

}  // namespace hwnas::exporting::detail

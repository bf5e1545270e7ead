#include "hwnas/export/torchscript.h"

#include <cctype>
#include <set>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/fixup_trace_scope_blocks.h>
#include <torch/csrc/jit/passes/normalize_ops.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/core/io.h"

namespace hwnas::exporting {
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

// Random inputs from their own generator: exporting leaves the global random state alone.
torch::Tensor example(const Shape& s, int64_t batch, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  return torch::randn({batch, s.c, s.h, s.w}, generator);
}

}  // namespace

ExportReport save_torchscript(nn::Network& net, const Shape& input, const std::string& path,
                              const TorchScriptOptions& options) {
  HWNAS_CHECK_T(ConfigError, input.numel() > 0, "save_torchscript: the input shape ", input.str(), " is empty");
  HWNAS_CHECK_T(ConfigError, options.trace_batch() >= 1, "save_torchscript: trace_batch must be >= 1");
  net.eval();
  torch::NoGradGuard no_grad;
  // The module: one attribute per parameter and buffer, the very tensors the network
  // uses, so the tracer records reads of them (prim::GetAttr), not constants.
  torch::jit::Module module("__torch__.hwnas.ExportedModel");
  module.register_attribute("training", c10::BoolType::get(), false);
  std::set<std::string> taken;
  ExportReport report;
  report.path = path;
  for (const auto& p : net.named_parameters()) {
    module.register_parameter(attribute_name(p.key(), taken), p.value(), /*is_buffer=*/false);
    ++report.tensors;
  }
  for (const auto& b : net.named_buffers()) {
    module.register_buffer(attribute_name(b.key(), taken), b.value());
    ++report.tensors;
  }
  const auto x = example(input, options.trace_batch(), options.seed());
  auto forward = [&](torch::jit::Stack in) -> torch::jit::Stack { return {net.forward(in.at(0).toTensor())}; };
  auto traced = torch::jit::tracer::trace({x}, forward, [](const torch::autograd::Variable&) { return std::string(); },
                                          /*strict=*/true, /*force_outplace=*/false, &module, {"x"});
  auto graph = traced.first->graph;
  torch::jit::FixupTraceScopeBlocks(graph, &module);
  torch::jit::NormalizeOps(graph);
  auto fn = module._ivalue()->compilation_unit()->create_function(
      c10::QualifiedName(*module.type()->name(), "forward"), graph);
  module.type()->addMethod(fn);

  std::ostringstream bytes;
  module.save(bytes);
  const std::string file = bytes.str();
  // Check what will be on disk: the module as loaded back from these bytes.
  std::istringstream in(file);
  auto loaded = torch::jit::load(in);
  loaded.eval();
  for (size_t i = 0; i < options.check_batches().size(); ++i) {
    const auto batch = options.check_batches()[i];
    const auto probe = example(input, batch, options.seed() + 1 + i);
    const auto want = net.forward(probe);
    torch::Tensor got;
    try {
      got = loaded.forward({probe}).toTensor();
    } catch (const c10::Error& e) {
      throw Error(fmt::format("TorchScript export: the traced module fails at batch {} (traced at {}): {}. The "
                              "network's forward turns a size into a constant (use flatten or view(-1) rather than "
                              "sizes read from the input); nothing written",
                              batch, options.trace_batch(), e.what_without_backtrace()));
    }
    HWNAS_CHECK_T(Error, got.sizes() == want.sizes(), "TorchScript export: at batch ", batch, " the traced module "
                  "returns shape ", got.sizes(), " instead of ", want.sizes(), ": the network's forward turns a size "
                  "into a constant (use flatten/view(-1) rather than sizes read from the input); nothing written");
    const double diff = (got - want).abs().max().item<double>();
    report.max_abs_diff = std::max(report.max_abs_diff, diff);
  }
  HWNAS_CHECK_T(Error, report.max_abs_diff <= options.tolerance(), "TorchScript export: the traced module differs "
                "from the network by ", report.max_abs_diff, " (tolerance ", options.tolerance(),
                "); the forward depends on something the trace cannot record (data-dependent control flow or a "
                "batch-size constant); nothing written");
  write_file_atomic(path, file);
  return report;
}

}  // namespace hwnas::exporting

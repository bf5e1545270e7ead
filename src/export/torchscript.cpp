#include "hwnas/export/torchscript.h"

#include <sstream>

#include <torch/script.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include "hwnas/core/error.h"
#include "hwnas/core/io.h"
#include "trace.h"

namespace hwnas::exporting {

ExportReport save_torchscript(nn::Network& net, const Shape& input, const std::string& path,
                              const TorchScriptOptions& options) {
  auto traced = detail::trace_network(net, input, options.trace_batch(), options.seed());
  auto& module = traced.module;
  torch::NoGradGuard no_grad;
  ExportReport report;
  report.path = path;
  report.tensors = traced.tensors;
  std::ostringstream bytes;
  module.save(bytes);
  const std::string file = bytes.str();
  // Check what will be on disk: the module as loaded back from these bytes.
  std::istringstream in(file);
  auto loaded = torch::jit::load(in);
  loaded.eval();
  for (size_t i = 0; i < options.check_batches().size(); ++i) {
    const auto batch = options.check_batches()[i];
    const auto probe = detail::example_input(input, batch, options.seed() + 1 + i);
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

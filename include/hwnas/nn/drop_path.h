#pragma once
// nn::DropPath: implemented by networks with cells whose op outputs can be dropped per
// sample during training (drop-path, Larsson et al. 2017, as DARTS trains its final
// networks). train::train_final raises the probability linearly over the epochs.
namespace hwnas::nn {

class DropPath {
 public:
  virtual ~DropPath() = default;
  /// Probability of zeroing each op's output per sample in training mode (kept outputs
  /// are scaled by 1 / (1 - p)); identity ops are never dropped. 0 turns it off.
  virtual void set_drop_path(double probability) = 0;
};

}  // namespace hwnas::nn

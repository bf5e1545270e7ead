#pragma once
// Seeded randomness. One Rng per run; every random decision in hwnas draws from it, so
// the same seed gives the same result on every platform (the distributions are ours,
// not the standard library's implementation-defined ones).
#include <cstdint>
#include <string>
#include <vector>

namespace hwnas {

/// A seeded 64-bit generator (SplitMix64-seeded xoshiro256**) with portable distributions.
///
/// Example:
///   hwnas::Rng rng(42);
///   int64_t i = rng.uniform_int(10);   // 0..9
///   double u = rng.uniform();          // [0, 1)
class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  /// The next raw 64-bit value.
  uint64_t next();
  /// Uniform integer in [0, n); n must be positive.
  int64_t uniform_int(int64_t n);
  /// Uniform integer in [lo, hi] (inclusive).
  int64_t uniform_int(int64_t lo, int64_t hi);
  /// Uniform double in [0, 1).
  double uniform();
  /// Standard normal (Box-Muller).
  double normal();
  /// True with probability p.
  bool bernoulli(double p);
  /// Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) {
      std::swap(v[static_cast<size_t>(i)], v[static_cast<size_t>(uniform_int(i + 1))]);
    }
  }
  /// A new independent generator derived from this one (for sub-tasks).
  Rng split();

  /// The generator's full state, to checkpoint and restore a run exactly.
  std::string state() const;
  void load_state(const std::string& state);

 private:
  uint64_t s_[4];
};

/// Seeds LibTorch's default CPU generator (weight initialisation, dropout) for the
/// lifetime of the object and restores the generator's previous state afterwards, so a
/// network built inside it depends on `seed` alone and the caller's random state is left
/// as it was. Not for concurrent use of the default generator from other threads.
///
///   { hwnas::TorchSeedScope scope(seed); net = std::make_shared<MyNet>(); }
class TorchSeedScope {
 public:
  explicit TorchSeedScope(uint64_t seed);
  ~TorchSeedScope();
  TorchSeedScope(const TorchSeedScope&) = delete;
  TorchSeedScope& operator=(const TorchSeedScope&) = delete;

 private:
  struct Saved;
  Saved* saved_;
};

}  // namespace hwnas

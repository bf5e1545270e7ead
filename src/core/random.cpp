#include "hwnas/core/random.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "hwnas/core/error.h"

namespace hwnas {
namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

int64_t Rng::uniform_int(int64_t n) {
  HWNAS_CHECK_T(ConfigError, n > 0, "Rng::uniform_int expects a positive range, but got ", n);
  const uint64_t range = static_cast<uint64_t>(n);
  // Rejection sampling: unbiased and portable.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % range);
  uint64_t v;
  do {
    v = next();
  } while (v >= limit);
  return static_cast<int64_t>(v % range);
}

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  HWNAS_CHECK_T(ConfigError, lo <= hi, "Rng::uniform_int expects lo <= hi, but got [", lo, ", ",
                hi, "]");
  return lo + uniform_int(hi - lo + 1);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

bool Rng::bernoulli(double p) { return uniform() < p; }

Rng Rng::split() { return Rng(next()); }

std::string Rng::state() const {
  char buf[4 * 17];
  std::snprintf(buf, sizeof buf, "%016llx%016llx%016llx%016llx",
                static_cast<unsigned long long>(s_[0]), static_cast<unsigned long long>(s_[1]),
                static_cast<unsigned long long>(s_[2]), static_cast<unsigned long long>(s_[3]));
  return buf;
}

void Rng::load_state(const std::string& state) {
  HWNAS_CHECK_T(DataError, state.size() == 64 &&
                               state.find_first_not_of("0123456789abcdef") == std::string::npos,
                "Expected a random-generator state of 64 hex digits, but got '", state, "'");
  for (int i = 0; i < 4; ++i) s_[i] = std::stoull(state.substr(static_cast<size_t>(i) * 16, 16), nullptr, 16);
}

// --- TorchSeedScope -------------------------------------------------------------------
struct TorchSeedScope::Saved {
  torch::Tensor state;
};

TorchSeedScope::TorchSeedScope(uint64_t seed) : saved_(new Saved) {
  auto gen = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    saved_->state = gen.get_state();
  }
  torch::manual_seed(seed);
}

TorchSeedScope::~TorchSeedScope() {
  auto gen = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(saved_->state);
  }
  delete saved_;
}

}  // namespace hwnas

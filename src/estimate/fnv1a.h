#pragma once
// FNV-1a (64-bit) over the bytes of a string: stable across runs, compilers and platforms
// (unlike std::hash), for seeds and fingerprints that are saved or must reproduce.
#include <cstdint>
#include <string>

namespace hwnas::estimate::detail {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t fnv1a(const std::string& s, uint64_t h = kFnvOffset) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}

}  // namespace hwnas::estimate::detail

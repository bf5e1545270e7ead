#pragma once
// FNV-1a (64-bit) over bytes: stable across runs, compilers and platforms
// (unlike std::hash), for seeds and fingerprints that are saved or must reproduce.
#include <cstddef>
#include <cstdint>
#include <string>

namespace hwnas::detail {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t fnv1a(const void* data, size_t size, uint64_t h = kFnvOffset) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) h = (h ^ bytes[i]) * kFnvPrime;
  return h;
}

inline uint64_t fnv1a(const std::string& s, uint64_t h = kFnvOffset) { return fnv1a(s.data(), s.size(), h); }

}  // namespace hwnas::detail

#pragma once
// The search-space registry with the built-in spaces (nb201, mobilenet, ofa, darts), and the
// layer kinds and key formats those spaces bring (hwnas/cost/layer_kind.h).
//
// Example:
//   hwnas::space_registry().add("tiny", "My tiny CNN space",
//       [](const nlohmann::json& cfg) { return std::make_unique<TinySpace>(cfg); });
//   auto space = hwnas::make_space("tiny");
// A space with layer kinds of its own registers them (cost::register_layer_kind) in the
// same registration function; see docs/spaces.md and examples/custom_layer_kind.cpp.
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/core/search_space.h"

namespace hwnas {

/// The search-space registry, with the built-in spaces registered on first use.
SpaceRegistry& space_registry();

/// Shorthand for space_registry().create(name, config).
std::unique_ptr<SearchSpace> make_space(const std::string& name);
std::unique_ptr<SearchSpace> make_space(const std::string& name, const nlohmann::json& config);

namespace spaces {
/// Registers the built-in spaces' layer kinds (mbconv, nb201_resblock, sep_conv, dil_conv,
/// factorized_reduce, darts_aux_head) and OFA's key format, once per process. Every
/// built-in space's constructor calls it, so their layers are always costed and profiled.
void register_builtin_layer_kinds();
}  // namespace spaces

}  // namespace hwnas

// The search-space registry and the explicit registration of the built-in spaces and of the
// layer kinds they bring.
#include "hwnas/search_spaces/registry.h"

#include <mutex>

#include <nlohmann/json.hpp>

#include "hwnas/search_spaces/darts/darts.h"
#include "hwnas/search_spaces/mobilenet/chain.h"
#include "hwnas/search_spaces/mobilenet/mobilenet.h"
#include "hwnas/search_spaces/nb201/nb201.h"
#include "hwnas/search_spaces/ofa/ofa.h"

namespace hwnas {

SpaceRegistry& space_registry() {
  static SpaceRegistry* registry = [] {
    spaces::register_builtin_layer_kinds();
    auto* r = new SpaceRegistry("search space");
    spaces::register_nb201(*r);
    spaces::register_mobilenet(*r);
    spaces::register_ofa(*r);
    spaces::register_darts(*r);
    return r;
  }();
  return *registry;
}

std::unique_ptr<SearchSpace> make_space(const std::string& name) {
  return space_registry().create(name);
}

std::unique_ptr<SearchSpace> make_space(const std::string& name, const nlohmann::json& config) {
  return space_registry().create(name, config);
}

namespace spaces {
void register_builtin_layer_kinds() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_mbconv_layer_kind();
    register_nb201_layer_kinds();
    register_darts_layer_kinds();
    register_ofa_key_format();
  });
}
}  // namespace spaces

}  // namespace hwnas

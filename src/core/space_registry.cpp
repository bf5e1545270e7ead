// The search-space registry and the explicit registration of the built-in spaces.
#include <nlohmann/json.hpp>

#include "hwnas/core/search_space.h"
#include "hwnas/search_spaces/darts/darts.h"
#include "hwnas/search_spaces/mobilenet/mobilenet.h"
#include "hwnas/search_spaces/nb201/nb201.h"
#include "hwnas/search_spaces/ofa/ofa.h"

namespace hwnas {

SpaceRegistry& space_registry() {
  static SpaceRegistry* registry = [] {
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

}  // namespace hwnas

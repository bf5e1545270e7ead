#include "hwnas/core/arch.h"

#include <ostream>

#include <nlohmann/json.hpp>

namespace hwnas {

Arch::Arch(std::string space, std::vector<int> genes, std::string canonical)
    : space_(std::move(space)), genes_(std::move(genes)), str_(std::move(canonical)) {}

nlohmann::json Arch::to_json() const {
  return nlohmann::json{{"space", space_}, {"arch", str_}, {"genes", genes_}};
}

std::ostream& operator<<(std::ostream& out, const Arch& arch) { return out << arch.str(); }

}  // namespace hwnas

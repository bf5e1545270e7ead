#include "hwnas/core/error.h"

namespace hwnas::detail {

void throw_internal(const char* condition, const char* file, int line, const std::string& message) {
  throw InternalError(concat("Internal error in hwnas (this is a bug, please report it): ",
                             condition, " failed at ", file, ":", line,
                             message.empty() ? "" : ": ", message));
}

}  // namespace hwnas::detail

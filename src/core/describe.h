#pragma once
// The message of any exception as a user should see it: LibTorch's c10::Error carries a
// C++ backtrace in what(); its what_without_backtrace() is the message alone.
#include <exception>
#include <string>

#include <c10/util/Exception.h>

namespace hwnas::detail {

inline std::string describe(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

}  // namespace hwnas::detail

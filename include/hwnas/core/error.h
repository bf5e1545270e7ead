#pragma once
// Errors: one typed exception hierarchy for user errors, one assert for our own bugs.
//
//   HWNAS_CHECK(k > 0, "Expected a positive kernel size, but got ", k);
//   HWNAS_CHECK_T(ParseError, pos < s.size(), "Unexpected end of '", s, "'");
//   HWNAS_INTERNAL_ASSERT(index < size);   // a bug in hwnas, never bad input
//
// The CLI turns every hwnas::Error into a one-line message and exit status 2.
#include <sstream>
#include <stdexcept>
#include <string>

namespace hwnas {

/// Base of every error hwnas throws for bad input or an impossible request.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A string (architecture, genotype, constraint) that does not parse.
class ParseError : public Error {
 public:
  using Error::Error;
};

/// An option or configuration value out of range or inconsistent.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A name not found in a registry, a key not found in a table.
class NotFoundError : public Error {
 public:
  using Error::Error;
};

/// A data file, table or checkpoint that is missing, truncated or corrupt.
class DataError : public Error {
 public:
  using Error::Error;
};

/// An architecture that does not belong to the space or breaks its rules.
class InvalidArchError : public Error {
 public:
  using Error::Error;
};

/// A broken invariant inside hwnas: always a bug, never the user's input.
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  ((out << args), ...);
  return out.str();
}
[[noreturn]] void throw_internal(const char* condition, const char* file, int line,
                                 const std::string& message);
}  // namespace detail

}  // namespace hwnas

/// Throw ErrorType with the concatenated message when cond is false.
#define HWNAS_CHECK_T(ErrorType, cond, ...)                       \
  do {                                                            \
    if (!(cond)) {                                                \
      throw ErrorType(::hwnas::detail::concat(__VA_ARGS__));      \
    }                                                             \
  } while (false)

/// Throw hwnas::Error with the concatenated message when cond is false.
#define HWNAS_CHECK(cond, ...) HWNAS_CHECK_T(::hwnas::Error, cond, __VA_ARGS__)

/// Check an invariant of hwnas itself; failing it is a bug in hwnas.
#define HWNAS_INTERNAL_ASSERT(cond, ...)                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      ::hwnas::detail::throw_internal(#cond, __FILE__, __LINE__,                           \
                                      ::hwnas::detail::concat(__VA_ARGS__));                  \
    }                                                                                      \
  } while (false)

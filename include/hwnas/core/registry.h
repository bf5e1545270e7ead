#pragma once
// Registry<T>: one per extension point (search spaces, layer kinds, predictors, strategies,
// ...; docs/architecture.md lists them). Names map to a description and a factory taking a
// JSON config. Unknown and duplicate names throw errors that list the valid names.
// Built-ins are registered explicitly, by the layer that owns them, when the registry is
// first used, so they are never lost when hwnas is linked statically.
//
// Example:
//   hwnas::space_registry().add("tiny", "My tiny CNN space",
//       [](const nlohmann::json& cfg) { return std::make_unique<TinySpace>(cfg); });
//   auto space = hwnas::make_space("tiny");
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwnas/core/error.h"

namespace hwnas {

/// `Context...`: what a factory needs besides its JSON config (e.g. the search space a cost
/// model measures); empty for most extension points.
template <typename T, typename... Context>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<T>(const nlohmann::json& config, Context... context)>;
  struct Entry {
    std::string name;
    std::string description;
    Factory factory;
  };

  /// `what` names the extension point in messages, e.g. "search space".
  explicit Registry(std::string what) : what_(std::move(what)) {}

  /// Registers a factory; throws ConfigError if the name is taken or malformed.
  void add(const std::string& name, const std::string& description, Factory factory) {
    HWNAS_CHECK_T(ConfigError, valid_name(name), "Invalid ", what_, " name '", name,
                  "': use lower-case letters, digits, '_', '-' and ':', starting with a letter");
    HWNAS_CHECK_T(ConfigError, static_cast<bool>(factory), "Registering ", what_, " '", name,
                  "' without a factory");
    std::lock_guard<std::mutex> lock(mutex_);
    HWNAS_CHECK_T(ConfigError, entries_.count(name) == 0, "A ", what_, " named '", name,
                  "' is already registered (registered: ", joined_names(), ")");
    entries_.emplace(name, Entry{name, description, std::move(factory)});
  }

  /// Registers a value that takes no config (a layer kind, a dataset kind, ...): each
  /// create() is a copy of it. Throws as add() does.
  void add_value(const std::string& name, const std::string& description, T value) {
    add(name, description, [value = std::move(value)](const nlohmann::json&, Context...) { return std::make_unique<T>(value); });
  }

  bool contains(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.count(name) > 0;
  }

  /// The entry; throws NotFoundError listing the valid names.
  Entry entry(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(name);
    HWNAS_CHECK_T(NotFoundError, it != entries_.end(), "Unknown ", what_, " '", name,
                  "'; valid names: ", joined_names());
    return it->second;
  }

  /// Creates an instance from a JSON config (an object; null means all defaults).
  std::unique_ptr<T> create(const std::string& name, const nlohmann::json& config = nlohmann::json::object(),
                            Context... context) const {
    HWNAS_CHECK_T(ConfigError, config.is_object() || config.is_null(), "The config of ",
                  what_, " '", name, "' must be a JSON object, but got: ", config.dump());
    auto made = entry(name).factory(config.is_null() ? nlohmann::json::object() : config, context...);
    HWNAS_INTERNAL_ASSERT(made != nullptr, "factory of ", what_, " '", name, "' returned null");
    return made;
  }

  /// One shared instance per name, made with the default config on first use and kept
  /// (for stateless entries looked up often, such as layer kinds).
  std::shared_ptr<const T> shared(const std::string& name) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = shared_.find(name);
      if (it != shared_.end()) return it->second;
    }
    std::shared_ptr<const T> made = create(name);
    std::lock_guard<std::mutex> lock(mutex_);
    return shared_.emplace(name, std::move(made)).first->second;
  }

  /// Registered names, sorted.
  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }

  /// Registered entries, sorted by name.
  std::vector<Entry> entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Entry> out;
    for (const auto& kv : entries_) out.push_back(kv.second);
    return out;
  }

  const std::string& what() const noexcept { return what_; }

 private:
  static bool valid_name(const std::string& n) {
    if (n.empty() || !(n[0] >= 'a' && n[0] <= 'z')) return false;
    for (char c : n)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ':'))
        return false;
    return true;
  }
  std::string joined_names() const {  // caller holds the lock
    std::string s;
    for (const auto& kv : entries_) s += (s.empty() ? "" : ", ") + kv.first;
    return s.empty() ? "(none)" : s;
  }

  std::string what_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  mutable std::map<std::string, std::shared_ptr<const T>> shared_;
};

}  // namespace hwnas

#include "oneshot/detail.h"

#include <filesystem>

#include <fmt/format.h>
#include <torch/torch.h>

#include "core/archive.h"
#include "core/describe.h"
#include "hwnas/core/json_number.h"
#include "hwnas/core/error.h"
#include "hwnas/core/json.h"
#include "hwnas/core/search_space.h"

namespace hwnas::oneshot::detail {

uint64_t mix_seed(uint64_t seed, uint64_t salt) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (salt + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

nlohmann::json run_meta(const SearchSpace& space, const nlohmann::json& options, int64_t epoch,
                        const nlohmann::json& reports) {
  return {{"space", space.name()}, {"space_config", space.config()}, {"options", options}, {"epoch", epoch},
          {"reports", reports}};
}

std::string last_checkpoint(const std::string& path, int64_t epochs) {
  if (path.empty() || epochs == 0) return "No checkpoint was written before it.";
  return fmt::format("The last good checkpoint is '{}' (after epoch {}).", path, epochs);
}

DataError unusable_checkpoint(const std::string& path, const std::string& why) {
  return DataError(fmt::format("The checkpoint '{}' cannot be used: {}. It is kept as it is; start again without "
                               "resuming (or with another output)",
                               path, why));
}

namespace {
// "hwnas-supernet-checkpoint" -> "supernet-checkpoint", the archive kind.
std::string archive_kind(const std::string& format) {
  const std::string prefix = "hwnas-";
  return format.rfind(prefix, 0) == 0 ? format.substr(prefix.size()) : format;
}
}  // namespace

void save_checkpoint(const std::string& path, hwnas::detail::TensorArchive& archive, nlohmann::json meta,
                     const std::string& format, int version) {
  meta["format"] = format;
  meta["version"] = version;
  save_timings(path, meta);  // the times beside the checkpoint, its bytes depend on the seed alone
  archive.put_string("meta", meta.dump());
  hwnas::detail::save_archive(archive, archive_kind(format), path);
}

nlohmann::json load_checkpoint(const std::string& path, hwnas::detail::TensorArchive& archive,
                               const std::string& format, int version) {
  HWNAS_CHECK_T(DataError, std::filesystem::exists(path), "No checkpoint at '", path, "'");
  archive = hwnas::detail::load_archive(archive_kind(format), path,
                                        "it is kept as it is; start again without resuming (or with another output)");
  nlohmann::json meta;
  try {
    const auto* text = archive.string("meta");
    if (!text) throw unusable_checkpoint(path, "it has no metadata");
    meta = parse_json(*text, "the metadata of '" + path + "'");
    load_timings(path, meta);
    if (!meta.is_object() || meta.value("format", "") != format) throw unusable_checkpoint(path, "it is not a " + format);
    const auto saved = meta.contains("version") ? json_integer<int>(meta["version"], "its \"version\"") : 0;
    if (saved > version)
      throw unusable_checkpoint(path, fmt::format("its version {} is newer than this hwnas reads ({}); use a newer "
                                                  "hwnas", saved, version));
  } catch (const hwnas::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw unusable_checkpoint(path, hwnas::detail::describe(e));
  }
  return meta;
}

namespace {
void same_run(const std::string& path, const nlohmann::json& meta, const std::string& space,
              const nlohmann::json& space_config, nlohmann::json options) {
  auto then = meta.value("options", nlohmann::json::object());
  for (auto* j : {&then, &options}) {
    j->erase("epochs");
    j->erase("checkpoint");
  }
  if (meta.value("space", "") != space || meta.value("space_config", nlohmann::json()) != space_config)
    throw unusable_checkpoint(path, fmt::format("it was written for space {} {}, this run is on {} {}",
                                                meta.value("space", "?"),
                                                meta.value("space_config", nlohmann::json()).dump(), space,
                                                space_config.dump()));
  if (then != options)
    throw unusable_checkpoint(path, fmt::format("it was written with other options ({}; now {})", then.dump(),
                                                options.dump()));
}
}  // namespace

void check_same_run(const std::string& path, const nlohmann::json& meta, const std::string& space,
                    const nlohmann::json& space_config, nlohmann::json options) {
  try {
    same_run(path, meta, space, space_config, std::move(options));
  } catch (const nlohmann::json::exception& e) {
    throw unusable_checkpoint(path, e.what());
  }
}

}  // namespace hwnas::oneshot::detail

#pragma once
// Internals shared by the one-shot trainers: checkpoints (an hwnas archive file,
// core/archive.h, with a JSON "meta" entry: format, version, space, options, progress;
// written atomically) and seeds.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>
#include "core/archive.h"

#include "hwnas/core/error.h"

namespace hwnas {
class SearchSpace;
}

namespace hwnas::oneshot::detail {

/// A seed for stream `salt` of a run seeded with `seed` (SplitMix64 finaliser).
uint64_t mix_seed(uint64_t seed, uint64_t salt);

/// The meta entry of a checkpoint after `epoch` epochs.
nlohmann::json run_meta(const SearchSpace& space, const nlohmann::json& options, int64_t epoch,
                        const nlohmann::json& reports);

/// For a divergence message: where the last good checkpoint is (after `epochs` epochs).
std::string last_checkpoint(const std::string& path, int64_t epochs);

/// The error for a checkpoint that cannot be used; it is left as it is.
DataError unusable_checkpoint(const std::string& path, const std::string& why);

/// Adds `meta` (with "format" and "version") to `archive` and writes it via a temporary file.
void save_checkpoint(const std::string& path, hwnas::detail::TensorArchive& archive, nlohmann::json meta,
                     const std::string& format, int version);

/// Reads the archive and its meta; checks the format and version.
nlohmann::json load_checkpoint(const std::string& path, hwnas::detail::TensorArchive& archive,
                               const std::string& format, int version);

/// Checks that a checkpoint was written for this space and these options ("epochs" may
/// differ: a run may be extended).
void check_same_run(const std::string& path, const nlohmann::json& meta, const std::string& space,
                    const nlohmann::json& space_config, nlohmann::json options);

}  // namespace hwnas::oneshot::detail

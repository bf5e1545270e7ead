#pragma once
// A search record as JSON: the document (pareto.json, best.json) and the one-line form of
// log.jsonl, written directly (the runner writes one per candidate) with the same keys in
// the same order and numbers that parse back to the same doubles.
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "hwnas/experiment/runner.h"

namespace hwnas::experiment {

nlohmann::json record_to_json(const Record& r);
/// Appends record_to_json(r).dump() and a newline to `out`, without building the document.
void append_record_line(std::string& out, const Record& r);

}  // namespace hwnas::experiment

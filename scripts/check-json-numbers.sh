#!/usr/bin/env bash
# Every integer and single-precision float the library reads from JSON goes through
# json_integer / json_float (include/hwnas/core/json_number.h): nlohmann's own get<int>(),
# get<float>() and value(key, <integer>) convert out-of-range floats with undefined
# behaviour; so does casting a double read from JSON (read_number) to an integer. Fails
# naming each line that reads one otherwise.
# Usage: scripts/check-json-numbers.sh [ROOT]
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"
pattern='get<(int|int8_t|int16_t|int32_t|int64_t|uint8_t|uint16_t|uint32_t|uint64_t|size_t|unsigned|long|short|float)>|get<std::(vector|map)<[^;]*(int64_t|int|float)>+\(|\.value\("[^"]*", *(-?[0-9]+|int64_t\{[^}]*\}|size_t\{[^}]*\})\)|static_cast<[a-z0-9_:]+>\(read_number'
if hits=$(grep -rnE "$pattern" src search_spaces predictors include --include='*.cpp' --include='*.h' |
          grep -v '^include/hwnas/core/json_number.h:'); then
  while IFS= read -r line; do
    echo "check-json-numbers: ${line%%:*}:$(cut -d: -f2 <<< "$line"): reads a JSON number with nlohmann's own conversion; use json_integer<T> or json_float (hwnas/core/json_number.h)"
  done <<< "$hits"
  exit 1
fi
echo "check-json-numbers: every JSON integer and float is read through json_integer / json_float"

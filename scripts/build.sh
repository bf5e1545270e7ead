#!/usr/bin/env bash
# Configure and build hwnas in $HWNAS_BUILD_DIR (default: build/). Arguments are build
# targets (default: everything: library, CLI, tests, examples, benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${HWNAS_BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  # Ninja when present: with precompiled headers, Makefiles rebuild every object when a
  # source file is added (per-source PCH flags share one flags.make); Ninja does not.
  generator=()
  if command -v ninja > /dev/null; then generator=(-G Ninja); fi
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DHWNAS_BUILD_TESTS=ON -DHWNAS_BUILD_EXAMPLES=ON -DHWNAS_BUILD_BENCHMARKS=ON
fi
if [[ $# -eq 0 ]]; then
  cmake --build "$build_dir" -j "$jobs"
else
  for target in "$@"; do cmake --build "$build_dir" -j "$jobs" --target "$target"; done
fi

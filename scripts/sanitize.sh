#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer: builds the
# library, CLI and tests with -fsanitize=address,undefined in $HWNAS_ASAN_BUILD_DIR
# (default build-asan/) and runs ctest there. LibTorch itself is not instrumented; the
# allocations it keeps for the life of the process are suppressed (fuzz/lsan.supp).
# Usage: scripts/sanitize.sh [ctest arguments, e.g. -R json]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-clients
build_dir=${HWNAS_ASAN_BUILD_DIR:-build-asan}
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHWNAS_SANITIZE=ON \
    -DHWNAS_BUILD_TESTS=ON -DHWNAS_BUILD_EXAMPLES=OFF -DHWNAS_BUILD_BENCHMARKS=OFF > /dev/null
fi
cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)"
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$build_dir" && ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@")

#!/usr/bin/env bash
# README command 2: install what is missing, build everything, run the whole test suite,
# install hwnas and build the examples against the installed package, then run every
# fuzz harness for a few seconds on its corpus (a Clang build in build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-clients
scripts/build.sh
build_dir=${HWNAS_BUILD_DIR:-build}
(cd "$build_dir" && ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)")
scripts/check-install.sh
scripts/fuzz.sh --seconds "${HWNAS_FUZZ_SECONDS:-5}"

#!/usr/bin/env bash
# README command 1: install what is missing, build the hwnas CLI, run the main job.
# Arguments are passed to `hwnas demo` (see `build/hwnas demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh hwnas_exe
exec "${HWNAS_BUILD_DIR:-build}/hwnas" demo "$@"

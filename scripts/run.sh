#!/usr/bin/env bash
# README command 1: install what is missing, build the hwnas CLI, run the quickstart: a
# hardware-aware search on Fashion-MNIST for this CPU, end to end (docs/getting-started.md).
# Arguments are passed to `hwnas quickstart` (see `build/hwnas quickstart --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh hwnas_exe
exec "${HWNAS_BUILD_DIR:-build}/hwnas" quickstart "$@"

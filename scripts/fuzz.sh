#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with Clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in $HWNAS_FUZZ_BUILD_DIR (default build-fuzz/), then runs each
# on its committed corpus (fuzz/corpus/<name>/, read only) plus a scratch corpus.
#
# Usage: scripts/fuzz.sh [--seconds S] [--runs N] [harness ...]
#   --seconds S  stop each harness after S seconds (default 5: the CI smoke run)
#   --runs N     stop each harness after N executions instead
#   harness      json, arch, configs, tables, files, checkpoints, images, tensors (default: all)
# Each harness's closing libFuzzer line (executions, time) goes to build-fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
seconds=5 runs=0 harnesses=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; seconds=0; shift 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(json arch configs tables files checkpoints images tensors)
build_dir=${HWNAS_FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DHWNAS_BUILD_FUZZERS=ON -DHWNAS_BUILD_TESTS=OFF -DHWNAS_BUILD_EXAMPLES=OFF -DHWNAS_BUILD_BENCHMARKS=OFF \
    -DHWNAS_BUILD_CLI=OFF > /dev/null
fi
targets=(); for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" "${targets[@]}"
# LibTorch (not instrumented) keeps a few allocations for the life of the process.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$build_dir/logs"
limit=(-max_total_time="$seconds"); [[ $runs -gt 0 ]] && limit=(-runs="$runs")
for h in "${harnesses[@]}"; do
  scratch="$build_dir/corpus/$h"
  mkdir -p "$scratch"
  log="$build_dir/logs/$h.log"
  echo "fuzz: $h (${limit[*]})"
  max_len=65536; [[ $h == checkpoints ]] && max_len=400000  # its seeds are whole archive files
  if ! "$build_dir/fuzz/fuzz_$h" "${limit[@]}" -rss_limit_mb=4096 -timeout=20 -max_len=$max_len -print_final_stats=1 \
      -artifact_prefix="$build_dir/logs/$h-" "$scratch" "fuzz/corpus/$h" > "$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $h FAILED (see $log and the crash input in $build_dir/logs/)" >&2
    exit 1
  fi
  grep -E '^Done|stat::number_of_executed_units|stat::average_exec_per_sec|cov:' "$log" | tail -n 4
done
echo "fuzz: ${#harnesses[@]} harnesses ran without a finding"

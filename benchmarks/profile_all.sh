#!/usr/bin/env bash
# Wall time to build a full latency table on this CPU for every built-in space (1 thread,
# the profiler's timing settings of bench_latency). Usage: benchmarks/profile_all.sh [build dir]
set -euo pipefail
build=${1:-build}
out=$(mktemp -d)
run() {
  local name=$1 space=$2 config=$3
  local start end
  start=$(date +%s%N)
  "$build/hwnas" --quiet profile --space "$space" --space-config "$config" --threads 1 \
    --warmup 3 --runs 10 --min-time 0.1 --out "$out/$name.json" 2>/dev/null | tail -n 1
  end=$(date +%s%N)
  printf '%s: %d.%d s\n' "$name" $(( (end - start) / 1000000000 )) $(( (end - start) / 100000000 % 10 ))
}
run nb201 nb201 '{}'
run darts darts '{}'
run mobilenet-proxyless mobilenet '{"preset": "proxyless"}'
run mobilenet-fbnet mobilenet '{"preset": "fbnet"}'
run mobilenet-mobilenetv2 mobilenet '{"preset": "mobilenetv2"}'
run ofa ofa '{}'
rm -rf "$out"

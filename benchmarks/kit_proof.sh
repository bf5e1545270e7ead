#!/usr/bin/env bash
# The device issue's proof on this machine: a profiling kit of SPACE, measured by both kit
# runners (ONNX Runtime, hwnas-probe's LibTorch JIT) at 1 thread, imported into tables
# calibrated on half of the kit's networks and checked on the other half, and each
# runtime's networks measured a second time for the noise ceiling (the Kendall tau between
# two measurements of the same held-out networks). A learned latency model (LEARNED, default
# gp) is fitted on top of each table on the same networks and reported on the same ones.
#
# Usage: benchmarks/kit_proof.sh OUT_DIR SPACE SPACE_CONFIG [ARCHS] [WARMUP] [REPETITIONS]
#   e.g. benchmarks/kit_proof.sh /tmp/proof-nb201 nb201 '{}' 200 10 50
# Needs the build (build/hwnas, build/runners/hwnas-probe/hwnas-probe) and the ONNX Runtime
# runner's packages (scripts/install-deps.sh --with-clients). Writes OUT_DIR/summary.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1 space=$2 config=$3 archs=${4:-200} warmup=${5:-10} reps=${6:-50} learned=${LEARNED:-gp}
build=${HWNAS_BUILD_DIR:-build}
hwnas=$build/hwnas probe=$build/runners/hwnas-probe/hwnas-probe
mkdir -p "$out"
[[ -d $out/kit ]] || "$hwnas" profile --space "$space" --space-config "$config" --kit "$out/kit" --archs "$archs" \
  --warmup "$warmup" --repetitions "$reps" > "$out/kit.log"
for round in 1 2; do
  [[ -s $out/ort-$round.jsonl ]] || node runners/onnxruntime/run-kit.mjs "$out/kit" "$out/ort-$round.jsonl" --threads 1 > /dev/null
  [[ -s $out/jit-$round.jsonl ]] || "$probe" "$out/kit" "$out/jit-$round.jsonl" --threads 1 > /dev/null
done
for rt in ort jit; do
  "$hwnas" table import-kit --kit "$out/kit" --results "$out/$rt-1.jsonl" --holdout $((archs / 2)) -o "$out/$rt.json" \
    --learned "$learned" --save-learned "$out/$rt-learned.json" --overwrite > "$out/$rt-import.txt"
done
/usr/bin/python3 benchmarks/kit_proof_summary.py "$out" "$archs" > "$out/summary.json"
cat "$out/summary.json"

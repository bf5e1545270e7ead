#!/usr/bin/env bash
# The device issue's search proof on this machine: a search whose constraint is ONNX Runtime
# latency on this CPU, set at the 25th percentile of random archs' measured latencies (the
# kit's random networks as the ONNX Runtime runner measured them), and the winner exported
# (a kit of its own, `hwnas profile --kit --network`) and measured by the same runner.
#
# Usage: benchmarks/ort_search_proof.sh PROOF_DIR [MODEL] [EVALUATIONS]
#   PROOF_DIR: a run of benchmarks/kit_proof.sh (its kit, ort-1.jsonl, ort.json and
#   ort-learned.json); MODEL: "table" (the calibrated table, latency@onnxruntime) or
#   "learned" (the learned model on top of it, latency@onnxruntime-learned; default).
# Writes PROOF_DIR/search-MODEL/{exp.json, run/, check/, check.jsonl, summary.json}.
set -euo pipefail
cd "$(dirname "$0")/.."
proof=$(realpath "$1") model=${2:-learned} evals=${3:-1000}
build=${HWNAS_BUILD_DIR:-build}
hwnas=$build/hwnas
out=$proof/search-$model
mkdir -p "$out"
space=$(/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["space"])' "$proof/kit/manifest.json")
config=$(/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(json.dumps(m["space_config"]))' "$proof/kit/manifest.json")
# The limit: the 25th percentile of the kit's random networks as measured.
limit=$(/usr/bin/python3 - "$proof" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(f"{sys.argv[1]}/ort-1.jsonl") if l.strip()]
ms = sorted(l["median_ms"] for l in lines[1:] if l["id"].startswith("N"))
print(f"{statistics.quantiles(ms, n=4, method='inclusive')[0]:.4f}")
PY
)
if [[ $model == learned ]]; then
  metric=latency@onnxruntime-learned
  models='[{"name": "analytic"}, {"name": "learned", "model": "../ort-learned.json", "table": "../ort.json"}]'
else
  metric=latency@onnxruntime
  models='[{"name": "analytic"}, {"name": "latency", "table": "../ort.json"}]'
fi
cat > "$out/exp.json" <<JSON
{"space": {"name": "$space", "config": $config},
 "strategy": {"name": "evolution", "population": 50, "sample_size": 10},
 "evaluator": {"name": "none"},
 "cost_models": $models,
 "objectives": [{"metric": "macs", "goal": "max"}],
 "constraints": ["$metric <= $limit ms"],
 "budget": {"evaluations": $evals}, "seed": 0, "batch_size": 50, "output": "run"}
JSON
"$hwnas" search -c "$out/exp.json" --no-progress --overwrite > "$out/search.log"
winner=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["arch"])' "$out/run/best.json")
# The winner as ONNX in a kit of its own (with the kit's first 20 random archs measured beside it), timed
# by the runner as the kit's networks were.
"$hwnas" profile --space "$space" --space-config "$config" --kit "$out/check" --network "$winner" --archs 20 \
  --warmup "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["protocol"]["warmup"])' "$proof/kit/manifest.json")" \
  --repetitions "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["protocol"]["repetitions"])' "$proof/kit/manifest.json")" \
  --overwrite > /dev/null
rm -f "$out/check.jsonl"
node runners/onnxruntime/run-kit.mjs "$out/check" "$out/check.jsonl" --threads 1 > /dev/null
/usr/bin/python3 - "$out" "$metric" "$limit" "$winner" <<'PY' | tee "$out/summary.json"
import json, sys
out, metric, limit, winner = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
best = json.load(open(f"{out}/run/best.json"))
rows = [json.loads(l) for l in open(f"{out}/run/log.jsonl") if l.strip()]
lines = [json.loads(l) for l in open(f"{out}/check.jsonl") if l.strip()]
manifest = json.load(open(f"{out}/check/manifest.json"))
ms = {l["id"]: l["median_ms"] for l in lines[1:]}
nets = manifest["networks"]
assert nets[0]["arch"] == winner
measured = ms[nets[0]["id"]]
randoms = [ms[n["id"]] for n in nets[1:]]
json.dump({"limit_ms": limit, "metric": metric, "evaluations": len(rows),
           "predicted_feasible_share": sum(r["metrics"][metric] <= limit for r in rows) / len(rows),
           "winner": winner, "winner_macs": best["metrics"]["macs"], "winner_predicted_ms": best["metrics"][metric],
           "winner_measured_ms": measured, "meets_constraint": measured <= limit,
           "random_archs_in_check_kit_below_limit": sum(m <= limit for m in randoms) / len(randoms)},
          sys.stdout, indent=1)
print()
PY

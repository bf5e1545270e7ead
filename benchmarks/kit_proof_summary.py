"""Summary of benchmarks/kit_proof.sh: per runtime the held-out calibration report (from the
imported table), the noise ceiling (Kendall tau between two measurements of the same
held-out networks), the learned model's report on the same networks, and both runtimes'
held-out network latencies side by side."""
import json
import statistics
import sys


def timings(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    return lines[0], {l["id"]: l["median_ms"] for l in lines[1:]}


def kendall_tau(a, b):
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            s += ((a[i] > a[j]) - (a[i] < a[j])) * ((b[i] > b[j]) - (b[i] < b[j]))
    return s / (n * (n - 1) / 2)


out, archs = sys.argv[1], int(sys.argv[2])
manifest = json.load(open(f"{out}/kit/manifest.json"))
held = [n["id"] for n in manifest["networks"]][archs - archs // 2:]
summary = {"space": manifest["space"], "layers": len(manifest["layers"]), "networks": len(manifest["networks"]),
           "held_out": len(held), "protocol": manifest["protocol"]}
ms = {}
for rt in ("ort", "jit"):
    header, first = timings(f"{out}/{rt}-1.jsonl")
    _, second = timings(f"{out}/{rt}-2.jsonl")
    table = json.load(open(f"{out}/{rt}.json"))
    report = table["calibration"]["report"]
    learned = json.load(open(f"{out}/{rt}-learned.json"))
    a, b = [first[i] for i in held], [second[i] for i in held]
    ms[rt] = a
    summary[rt] = {
        "runtime": header["runtime"], "runtime_version": header["runtime_version"], "device": header["device"],
        "overhead_ms": table["overhead_ms"],
        "uncalibrated": {k: report["uncalibrated"][k] for k in ("mape", "within5", "within10", "kendall_tau")},
        "calibrated": {k: report["calibrated"][k] for k in ("mape", "within5", "within10", "kendall_tau")},
        "learned": {k: learned["source"]["held_out"][k] for k in ("mape", "within5", "within10", "kendall_tau")},
        "noise_ceiling_tau": kendall_tau(a, b),
        "repeat_within10": sum(abs(x - y) / y <= 0.10 for x, y in zip(a, b)) / len(a),
        "held_out_median_ms": statistics.median(a), "held_out_min_ms": min(a), "held_out_max_ms": max(a),
    }
ratios = [o / j for o, j in zip(ms["ort"], ms["jit"])]
summary["ort_over_jit"] = {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
summary["per_arch_ms"] = [{"id": i, "ort": o, "jit": j} for i, o, j in zip(held, ms["ort"], ms["jit"])]
json.dump(summary, sys.stdout, indent=1)
print()

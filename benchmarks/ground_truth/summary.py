#!/usr/bin/python3
"""Averages the ground-truth runs of benchmarks/ground_truth/run.sh and measures their noise.

Writes benchmarks/data/nb201_fmnist_gt400.csv (arch, val_accuracy: the mean over seeds
0..SEEDS-1, val_accuracy_std, seeds) with the archs that have every seed so far, and prints
the seed-to-seed Kendall tau: on the first 100 archs, the mean of seeds 0..SEEDS-1 against
the mean of seeds SEEDS..2*SEEDS-1, leaving out archs at chance level (mean accuracy under
0.2), with the noise ceiling it implies (the tau of a perfect predictor against one
average). Standard library only.
"""
import csv
import math
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DIR = os.path.join(ROOT, "benchmarks", "data", "nb201_fmnist_gt400")
CHANCE = 0.2


def recipe_seeds():
    text = open(os.path.join(ROOT, "benchmarks", "ground_truth", "recipe.sh")).read()
    return int(re.search(r"^SEEDS=(\d+)", text, re.M).group(1))


def load(part, seed):
    path = os.path.join(DIR, f"{part}_s{seed}.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {r["arch"]: float(r["val_accuracy"]) for r in csv.DictReader(f)}


def kendall_tau(x, y):
    concordant = discordant = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            s = (x[i] - x[j]) * (y[i] - y[j])
            concordant += s > 0
            discordant += s < 0
    pairs = len(x) * (len(x) - 1) / 2
    return (concordant - discordant) / pairs if pairs else float("nan")


def mean(v):
    return sum(v) / len(v)


def main():
    seeds = recipe_seeds()
    archs = [a.strip() for a in open(os.path.join(DIR, "archs.txt")) if a.strip()]
    first = set(archs[:100])
    runs = {}  # arch -> accuracies of seeds 0..SEEDS-1
    for s in range(seeds):
        for part in ("first100", "rest"):
            for arch, acc in load(part, s).items():
                runs.setdefault(arch, {})[s] = acc
    rows = []
    for arch in archs:
        got = runs.get(arch, {})
        if len(got) == seeds:
            v = [got[s] for s in range(seeds)]
            sd = math.sqrt(sum((a - mean(v)) ** 2 for a in v) / (len(v) - 1)) if len(v) > 1 else 0.0
            rows.append((arch, mean(v), sd))
    out = os.path.join(ROOT, "benchmarks", "data", "nb201_fmnist_gt400.csv")
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "val_accuracy", "val_accuracy_std", "seeds"])
        for arch, m, sd in rows:
            w.writerow([arch, f"{m:.6f}", f"{sd:.6f}", seeds])
    os.replace(out + ".tmp", out)
    print(f"{len(rows)} of {len(archs)} archs have all {seeds} seeds: {out}")

    # Noise: the recipe's average against the average of as many other seeds.
    other = {}
    for s in range(seeds, 2 * seeds):
        for arch, acc in load("first100", s).items():
            other.setdefault(arch, []).append(acc)
    mine = {a: m for a, m, _ in rows if a in first}
    both = [a for a in archs[:100] if a in mine and len(other.get(a, [])) == seeds]
    working = [a for a in both if mine[a] >= CHANCE and mean(other[a]) >= CHANCE]
    if len(working) < 2:
        print(f"seed-to-seed tau: not yet ({len(both)} of the first 100 archs have all {2 * seeds} seeds)")
        return
    x = [mine[a] for a in working]
    y = [mean(other[a]) for a in working]
    tau = kendall_tau(x, y)
    # Kendall's tau of two equally noisy averages gives their correlation r = sin(pi tau / 2)
    # (normal scores); one average correlates with the noise-free value at sqrt(r).
    r = math.sin(math.pi * tau / 2)
    ceiling = 2 / math.pi * math.asin(math.sqrt(max(r, 0.0)))
    diffs = [a - b for a, b in zip(x, y)]
    print(f"seed-to-seed Kendall tau ({seeds} seeds against {seeds} others, {len(working)} working archs of "
          f"{len(both)}): {tau:.3f}; noise ceiling (a perfect predictor against one average): {ceiling:.3f}")
    print(f"mean |difference| {mean([abs(d) for d in diffs]):.4f}; arch spread (std of the averages) "
          f"{math.sqrt(sum((v - mean(x)) ** 2 for v in x) / (len(x) - 1)):.4f}")


if __name__ == "__main__":
    sys.exit(main())

#!/bin/sh
# Held-out Kendall tau of a predictor (the MLP unless PREDICTOR says another, e.g. gcn) by
# training loss (mse, pairwise, mse+pairwise) and encoding (ENCODINGS, default "onehot
# path+cost") on an arch table, 10 seeds of `hwnas predictor eval` (a third of the rows
# held out; fitted on 25, 50 and 100 of the others). Prints mean and std per cell.
#   [PREDICTOR=gcn] [ENCODINGS="graph graph+cost"] benchmarks/predictor_losses.sh [HWNAS] [TABLE]
set -eu
cd "$(dirname "$0")/.."
HWNAS=${1:-build/hwnas}
TABLE=${2:-benchmarks/data/nb201_fmnist_gt.csv}
SPACE='{"channels": 8, "cells_per_stage": 1, "input_channels": 1, "input_size": 28}'
PREDICTOR=${PREDICTOR:-mlp}
for enc in ${ENCODINGS:-onehot path+cost}; do
  for loss in mse pairwise mse+pairwise; do
    for s in 0 1 2 3 4 5 6 7 8 9; do
      "$HWNAS" --threads 1 predictor eval --space nb201 --space-config "$SPACE" --data "$TABLE" -t val_accuracy \
        -p "$PREDICTOR" -c "{\"loss\": \"$loss\"}" -e "$enc" --test-fraction 0.334 --train-sizes 25,50,100 --seed "$s" |
        awk -v e="$enc" -v l="$loss" 'NR > 2 && $1 ~ /^[0-9]+$/ {print e, l, $1, $2}'
    done
  done
done | awk '{k = $1 " " $2 " n=" $3; n[k]++; s[k] += $4; q[k] += $4 * $4}
  END {for (k in n) {m = s[k] / n[k]; printf "%-28s %.3f +- %.3f\n", k, m, sqrt(q[k] / n[k] - m * m)}}' | sort

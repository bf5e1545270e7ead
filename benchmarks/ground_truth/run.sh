#!/bin/sh
# The Fashion-MNIST ground truth of NAS-Bench-201 for the predictor benchmarks (issue:
# estimators, part 1). Every arch of archs.txt is trained with the recipe in recipe.sh
# once per seed 0..SEEDS-1; the first 100 also with seeds SEEDS..2*SEEDS-1, whose average
# against the first seeds' average is the seed-to-seed Kendall tau (the noise of the
# ground truth). The split of the training file into training and validation images is
# held fixed (--split-seed 0): the seeds vary only the training. It takes many hours: run
# it in the background (it runs niced) and again after an interruption (every CSV resumes).
#
#   benchmarks/ground_truth/run.sh [HWNAS] [JOBS]     (build/hwnas, 1 job at a time)
# then /usr/bin/python3 benchmarks/ground_truth/summary.py writes the table and its noise.
set -eu
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../.."
DIR=benchmarks/data/nb201_fmnist_gt400
. benchmarks/ground_truth/recipe.sh
if [ "${1:-}" = "--one" ]; then  # one (part, seed): run.sh --one HWNAS PART SEED
  out="$DIR/$3_s$4.csv"
  exec nice -n 19 "$2" --threads 1 evaluate --space nb201 --space-config "$SPACE" \
    -e short_training -c "$TRAINING" --train-size "$TRAIN_SIZE" --valid-size "$VALID_SIZE" \
    --split-seed 0 --archs "$DIR/$3.txt" --seed "$4" --out "$out" --resume > "$out.log" 2>&1
fi
HWNAS=${1:-build/hwnas}
JOBS=${2:-1}
head -n 100 "$DIR/archs.txt" > "$DIR/first100.txt"
tail -n +101 "$DIR/archs.txt" > "$DIR/rest.txt"
{
  s=0; while [ "$s" -lt $((2 * SEEDS)) ]; do echo "first100 $s"; s=$((s + 1)); done
  s=0; while [ "$s" -lt "$SEEDS" ]; do echo "rest $s"; s=$((s + 1)); done
} | xargs -P "$JOBS" -L 1 "$SELF" --one "$HWNAS"

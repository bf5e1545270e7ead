# The ground truth's recipe (read by run.sh and summary.py). Chosen from a pilot on 24
# archs (docs/benchmarks.md, "A ground truth that can rank"): 400 steps with the split
# held fixed gave a seed-to-seed tau of 0.46 for single runs, which three seeds averaged
# should lift above 0.6.
SPACE='{"channels": 8, "cells_per_stage": 1}'
TRAINING='{"steps": 400, "batch_size": 64, "lr": 0.05, "cosine": true}'
TRAIN_SIZE=10000
VALID_SIZE=10000
SEEDS=3

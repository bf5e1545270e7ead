#!/usr/bin/env bash
# Installs the built hwnas into a scratch prefix and builds examples/ against it as an
# outside project would (find_package(hwnas) -> hwnas::hwnas), then runs every example.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${HWNAS_BUILD_DIR:-build}
prefix="$build_dir/install-check/prefix"
consumer="$build_dir/install-check/examples"
rm -rf "$build_dir/install-check"
cmake --install "$build_dir" --prefix "$prefix" > /dev/null
cmake -S examples -B "$consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$(realpath "$prefix")" > /dev/null
cmake --build "$consumer" -j "$(nproc 2>/dev/null || echo 2)"
"$consumer/space_tour" 1
"$consumer/custom_space"
"$consumer/custom_space" info --space tiny --arch w16k3-w32k5-w8k3
# A space with its own layer kind: profiled into a table (its layers in it), costed,
# exported to TorchScript and ONNX (a registered op conversion), searched under a latency limit.
"$consumer/custom_layer_kind" profile --space attn --warmup 1 --runs 3 --min-time 0.01 -o "$consumer/attn_cpu.json"
grep -q '"spatial_attention-in:16x14x14-out:16x14x14"' "$consumer/attn_cpu.json"
(cd "$consumer" && ./custom_layer_kind tour attn_cpu.json && test -s attn.pt && test -s attn.onnx &&
  grep -q '"latency@here"' attn_search/best.json)
# A cost model of its own: energy_mj as a search constraint; the best is checked by brute force.
(cd "$consumer" && ./custom_cost_model && grep -q '"energy_mj"' energy_search/best.json)
# An evaluator of its own: named in an experiment config and by hwnas evaluate.
(cd "$consumer" && ./custom_evaluator tour && grep -q '"probe_acc"' probe_search/best.json &&
  ./custom_evaluator evaluate --evaluator linear_probe --space nb201 --space-config '{"channels": 8, "cells_per_stage": 1}' \
    --train-size 500 --valid-size 200 -n 2 --out probe.csv && head -1 probe.csv | grep -q probe_acc)
# An exporter of its own: hwnas export --format c_header writes model.h beside the ONNX model.
(cd "$consumer" && ./custom_exporter train --space nb201 --space-config '{"channels": 8, "cells_per_stage": 1}' \
    --arch '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|' --epochs 1 \
    --steps-per-epoch 2 --train-size 256 --test-size 128 --no-progress --out header_run &&
  ./custom_exporter export --run header_run --format c_header,onnx && grep -q 'static const float hwnas_' header_run/export/model.h &&
  grep -q '"c_header"' header_run/export/model.json && test -s header_run/export/model.onnx)
# A dataset of its own: a search and a final training read it by name.
(cd "$consumer" && ./custom_dataset tour && grep -q '"shapes"' shapes_search/config.json &&
  ./custom_dataset train --data shapes --train-size 500 --test-size 200 --epochs 1 --no-progress \
    --space-config '{"channels": 8, "cells_per_stage": 1}' \
    --arch '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|' --out shapes_run &&
  grep -q '"shapes"' shapes_run/train.json)
"$consumer/latency_tour"
(cd "$consumer" && ./custom_predictor)
(cd "$consumer" && ./custom_encoding && ./custom_encoding encodings > encodings.txt && grep -q "^depth" encodings.txt)
# A strategy of its own: simulated annealing named in an experiment, resumed exactly.
(cd "$consumer" && ./custom_strategy && grep -q '"annealing"' anneal_search/straight/config.json)
# A one-shot method of its own: space shrinking named in an experiment, stopped and resumed exactly.
(cd "$consumer" && ./custom_oneshot && grep -q '"shrink"' shrink_search/straight/config.json &&
  grep -q '"options_left":6' shrink_search/straight/epochs.jsonl)
"$consumer/search_api" "$PWD/data/ofa"
"$consumer/oneshot_api"
"$consumer/export_model" "$consumer/model.pt"
"$consumer/run_exported" "$consumer/model.pt"
echo "check-install: examples built and ran against the installed package in $prefix"
# hwnas-probe builds alone, from a copy of its folder (its only dependency: find_package(Torch)),
# and times a kit that the installed hwnas writes and imports.
probe_check="$build_dir/install-check/probe"
mkdir -p "$probe_check"
cp -r runners/hwnas-probe "$probe_check/src"
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$probe_check/src" -B "$probe_check/build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" > /dev/null
cmake --build "$probe_check/build" -j "$(nproc 2>/dev/null || echo 2)"
"$prefix/bin/hwnas" profile --space-config '{"channels": 4, "cells_per_stage": 1}' --kit "$probe_check/kit" --archs 6 \
  --warmup 1 --repetitions 3 > /dev/null
"$probe_check/build/hwnas-probe" "$probe_check/kit" "$probe_check/kit.jsonl"
"$prefix/bin/hwnas" table import-kit --kit "$probe_check/kit" --results "$probe_check/kit.jsonl" -o "$probe_check/table.json"
grep -q '"libtorch-jit"' "$probe_check/table.json"

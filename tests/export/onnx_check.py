#!/usr/bin/python3
"""Outside check of hwnas's ONNX export with Debian's python3-onnx.

Usage: /usr/bin/python3 onnx_check.py MODEL.onnx
Runs the full ONNX checker and strict shape inference (with data propagation) and prints
{"opset": ..., "output_shape": [...], "ops": {...}} on stdout; exits non-zero if either
check fails.
"""
import collections
import json
import sys

import onnx

model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
out = inferred.graph.output[0].type.tensor_type.shape
shape = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in out.dim]
ops = collections.Counter(n.op_type for n in inferred.graph.node)
print(json.dumps({"opset": model.opset_import[0].version, "output_shape": shape, "ops": dict(ops)}))

#!/usr/bin/python3
"""Outside client of hwnas's TorchScript export: plain PyTorch, no hwnas code.

Usage: /usr/bin/python3 torchscript_client.py MODEL.pt INPUT.pt EXPECTED.pt
Loads the exported module with torch.jit.load, runs it on the input tensor (saved by the
C++ test with torch::pickle_save) and prints {"max_abs_diff": ...} against the expected
output; exits 1 if the shapes differ.
"""
import json
import sys

import torch

model_path, input_path, expected_path = sys.argv[1:4]
model = torch.jit.load(model_path)
model.eval()
x = torch.load(input_path)
expected = torch.load(expected_path)
with torch.no_grad():
    y = model(x)
if y.shape != expected.shape:
    print(json.dumps({"error": f"shape {list(y.shape)} != {list(expected.shape)}"}))
    sys.exit(1)
print(json.dumps({"max_abs_diff": (y - expected).abs().max().item(), "shape": list(y.shape)}))

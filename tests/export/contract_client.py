"""A deployer with no hwnas code: classifies raw image files with an exported model.pt,
preparing every image from model.json's "input" contract alone (decoder, colour
conversion, resize, normalisation), as docs/deployment.md describes.

Usage: contract_client.py EXPORT_DIR IMAGE_ROOT
  IMAGE_ROOT holds one folder per class (the classes model.json lists). Prints one JSON
  line: {"files": [...], "predicted": [...], "labels": [...], "accuracy": ...}.
"""
import json
import os
import sys

import cv2
import numpy as np
import torch

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def prepare(path, contract):
    prep = contract["preprocessing"]
    size, channels = prep["size"], contract["channels"]
    with open(path, "rb") as f:
        img = cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_UNCHANGED)
    if img.dtype == np.uint16:
        img = cv2.convertScaleAbs(img, alpha=1.0 / 257.0)
    c = 1 if img.ndim == 2 else img.shape[2]
    if channels == 3:
        img = cv2.cvtColor(img, {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}[c])
    elif c != 1:
        img = cv2.cvtColor(img, {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}[c])
    h, w = img.shape[:2]
    interp = getattr(cv2, prep["opencv_interpolation"])
    if (h, w) != (size, size):
        if prep["resize"] == "stretch":
            img = cv2.resize(img, (size, size), interpolation=interp)
        else:
            nw = size if w <= h else max(size, size * w // h)
            nh = size if h <= w else max(size, size * h // w)
            if (nw, nh) != (w, h):
                img = cv2.resize(img, (nw, nh), interpolation=interp)
            top, left = (img.shape[0] - size) // 2, (img.shape[1] - size) // 2
            img = img[top:top + size, left:left + size]
    if img.ndim == 2:
        img = img[:, :, None]
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).to(torch.float32).div_(contract["divisor"])
    norm = contract["normalize"]
    if norm is not None:
        mean = torch.tensor(norm["mean"], dtype=torch.float64).to(torch.float32).view(-1, 1, 1)
        std = torch.tensor(norm["std"], dtype=torch.float64).to(torch.float32).view(-1, 1, 1)
        x = x.sub_(mean).div_(std)
    return x


def main():
    export_dir, root = sys.argv[1], sys.argv[2]
    with open(os.path.join(export_dir, "model.json")) as f:
        meta = json.load(f)
    contract = meta["input"]
    model = torch.jit.load(os.path.join(export_dir, meta["files"]["torchscript"]["file"]))
    model.eval()
    files, labels = [], []
    for label, name in enumerate(contract["classes"]):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        found = []
        for dirpath, _, names in os.walk(folder, followlinks=True):
            found += [os.path.join(dirpath, n) for n in names if n.lower().endswith(EXTENSIONS)]
        for path in sorted(found):
            files.append(path)
            labels.append(label)
    predicted = []
    with torch.no_grad():
        for start in range(0, len(files), 128):
            batch = torch.stack([prepare(p, contract) for p in files[start:start + 128]])
            predicted += model(batch).argmax(1).tolist()
    correct = sum(int(p == y) for p, y in zip(predicted, labels))
    print(json.dumps({"files": files, "predicted": predicted, "labels": labels,
                      "accuracy": correct / max(1, len(files))}))


if __name__ == "__main__":
    main()

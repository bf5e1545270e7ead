"""The peer of benchmarks/bench_data.cpp: torchvision's ImageFolder and DataLoader on the
same folder with the same transforms (resize to SxS, scale to [0, 1], normalise with mean
0.5 and std 0.25, random crop of the image padded by S/8, horizontal flip), batch size and
number of workers, persistent workers on.

Usage: torchvision_loader.py ROOT [--size 32] [--batch 64] [--workers 2] [--epochs 2]
Prints one JSON line: images per second of the last epoch (the first warms up).
"""
import argparse
import json
import time

import torch
from torchvision import datasets, transforms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=2)
    a = p.parse_args()
    t = transforms.Compose([
        transforms.Resize((a.size, a.size)),
        transforms.ToTensor(),
        transforms.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
        transforms.RandomCrop(a.size, padding=a.size // 8),
        transforms.RandomHorizontalFlip(),
    ])
    data = datasets.ImageFolder(a.root + "/train", transform=t)
    loader = torch.utils.data.DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers,
                                         persistent_workers=a.workers > 0)
    for _ in range(a.epochs):
        start = time.perf_counter()
        images = 0
        for x, _ in loader:
            images += x.shape[0]
        seconds = time.perf_counter() - start
    print(json.dumps({"loader": "torchvision", "images": images, "seconds": seconds,
                      "images_per_second": images / seconds}))


if __name__ == "__main__":
    main()

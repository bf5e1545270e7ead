"""Writes a generated image folder for the data benchmarks: ROOT/{train,test}/<class>/*.jpg,
smooth class-coloured gradients with noise, encoded by OpenCV (the library hwnas decodes
with) at JPEG quality 90.

Usage: make_image_folder.py ROOT --size 224 --train 17900 --test 100 [--classes 10] [--seed 1]
"""
import argparse
import os

import cv2
import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--train", type=int, default=1000, help="training images in all")
    p.add_argument("--test", type=int, default=100, help="test images in all")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    s = a.size
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
    for part, count in (("train", a.train), ("test", a.test)):
        for i in range(count):
            k = i % a.classes
            folder = os.path.join(a.root, part, f"class{k:02d}")
            os.makedirs(folder, exist_ok=True)
            angle = 2 * np.pi * k / a.classes
            t = np.cos(angle) * xx + np.sin(angle) * yy
            img = np.stack([t * 200, (1 - t) * 150, np.full_like(t, 25.0 * (k % 4))], axis=2)
            img += rng.normal(0, 12, img.shape)
            cv2.imwrite(os.path.join(folder, f"{i:06d}.jpg"), np.clip(img, 0, 255).astype(np.uint8),
                        [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == "__main__":
    main()

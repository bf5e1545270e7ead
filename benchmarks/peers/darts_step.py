#!/usr/bin/python3
"""One DARTS search step (first-order architecture step + weight step) on the
NAS-Bench-201 supernet, written in plain PyTorch: the peer of `bench_oneshot speed`.

The network mirrors hwnas's nb201 supernet module for module: stem 3x3 conv + BN, three
stages of N cells (C, 2C, 4C) joined by residual reduction blocks, BN-ReLU, global average
pooling, linear classifier; every cell edge sums softmax(alpha)-weighted ops (none, skip,
ReLU-conv1x1-BN, ReLU-conv3x3-BN, avg-pool 3x3 without padding counted). The step does
what hwnas's DifferentiableSearch does for method "darts", order 1: alphas' gradient of
the validation loss (autograd.grad on the alphas only) and an Adam step, then a weight step
(SGD momentum, weight decay, gradient-norm clip 5) with the alphas detached.

Run with Debian's interpreter: /usr/bin/python3 darts_step.py --threads 1 --steps 20
Prints one JSON line: {"seconds_per_step": ..., "page_faults_per_step": ..., "steps": ..., ...}.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride=1, relu=True):
        super().__init__()
        self.relu = relu
        self.conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=(k - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x) if self.relu else x))


class MixedEdge(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = ReLUConvBN(c, c, 1)
        self.conv3 = ReLUConvBN(c, c, 3)

    def forward(self, x, w):
        # ops: 0 none (adds nothing), 1 skip, 2 conv 1x1, 3 conv 3x3, 4 avg pool 3x3
        pool = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return w[1] * x + w[2] * self.conv1(x) + w[3] * self.conv3(x) + w[4] * pool


EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


class Cell(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(c) for _ in EDGES)

    def forward(self, x, weights):
        nodes = [x]
        for node in (1, 2, 3):
            total = None
            for e, (to, frm) in enumerate(EDGES):
                if to != node:
                    continue
                y = self.edges[e](nodes[frm], weights[e])
                total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class ResBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x):
        return self.conv_b(self.conv_a(x)) + self.downsample(F.avg_pool2d(x, 2, 2))


class Supernet(nn.Module):
    def __init__(self, c=16, n=5, in_ch=3, classes=10):
        super().__init__()
        self.stem = ReLUConvBN(in_ch, c, 3, relu=False)
        layers = []
        for stage in range(3):
            if stage > 0:
                layers.append(ResBlock(c, 2 * c))
                c *= 2
            layers.extend(Cell(c) for _ in range(n))
        self.layers = nn.ModuleList(layers)
        self.lastact = nn.BatchNorm2d(c)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x, weights):
        h = self.stem(x)
        for layer in self.layers:
            h = layer(h, weights) if isinstance(layer, Cell) else layer(h)
        h = F.relu(self.lastact(h))
        return self.classifier(F.adaptive_avg_pool2d(h, 1).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=5)
    p.add_argument("--size", type=int, default=32)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = Supernet(a.channels, a.cells)
    alphas = [(1e-3 * torch.randn(5)).requires_grad_() for _ in EDGES]
    wopt = torch.optim.SGD(net.parameters(), lr=0.025, momentum=0.9, weight_decay=3e-4)
    aopt = torch.optim.Adam(alphas, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    batches = [(torch.randn(a.batch, 3, a.size, a.size), torch.randint(0, 10, (a.batch,))) for _ in range(4)]

    def step(i):
        x, y = batches[i % 4]
        xv, yv = batches[(i + 1) % 4]
        net.train()
        loss = F.cross_entropy(net(xv, [F.softmax(al, 0) for al in alphas]), yv)
        grads = torch.autograd.grad(loss, alphas)
        for al, g in zip(alphas, grads):
            al.grad = g
        aopt.step()
        for q in net.parameters():
            q.grad = None
        loss = F.cross_entropy(net(x, [F.softmax(al, 0).detach() for al in alphas]), y)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        wopt.step()

    for i in range(2):
        step(i)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    for i in range(a.steps):
        step(i)
    dt = (time.perf_counter() - t0) / a.steps
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / a.steps
    print(json.dumps({"seconds_per_step": dt, "page_faults_per_step": faults, "steps": a.steps,
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

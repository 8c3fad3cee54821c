#!/usr/bin/env python3
"""The small CNN of `preset::cnn` in PyTorch: conv 5x5 1->16 ('same' padding), ReLU, 2x2
max-pool, conv 5x5 16->32, ReLU, 2x2 max-pool, dense 1568->128 ReLU, dense 128->10; He
initialisation (kaiming_normal_, fan-in) and zero biases; SGD with momentum 0.9, learning
rate 0.05 on a cosine per step, weight decay 5e-4, batches of 64 shuffled every epoch;
optionally random shifts of up to --shift pixels. No label smoothing, rotations or
scalings: it is the first rung of `preset::cnn_ladder` (with --shift 2, the second).

    python3 benches/peers/cnn_torch.py --data datasets/mnist-10k --epochs 3 --threads 1

and simplenn doing the same work, for the time per epoch:

    cargo run --release --example train -- --data datasets/mnist-10k --val-fraction 0 \\
        --arch conv5:16,pool2,conv5:32,pool2,dense128 --label-smoothing 0 --shift 0 \\
        --epochs 3 --threads 1 --metrics cnn.json

needs PyTorch (Debian: apt-get install python3-torch; or pip install torch numpy). Trains
once per seed on the folder's train-* files and prints, per run, the median seconds of an
epoch's training loop (evaluation excluded) and the test accuracy."""
import argparse
import math
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import mnist

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data", required=True, help="a folder with train-* and t10k-* files")
parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 [1]")
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--shift", type=int, default=0, help="random shifts of up to K pixels [0]")
args = parser.parse_args()
torch.set_num_threads(args.threads)

x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in mnist.load(args.data))
x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
n, batch, lr = len(y_train), 64, 0.05


def shifted(images, rng, k):
    """Each image moved by its own random (dx, dy) in [-k, k], zeros moving in."""
    if k == 0:
        return images
    out = torch.zeros_like(images)
    for i, (dx, dy) in enumerate(rng.integers(-k, k + 1, size=(len(images), 2))):
        src = images[i, 0, max(0, -dy):28 - max(0, dy), max(0, -dx):28 - max(0, dx)]
        out[i, 0, max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


all_epochs, accuracies = [], []
for seed in range(args.seeds):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 49, 128), nn.ReLU(), nn.Linear(128, 10))
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    optimiser = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    total_steps = args.epochs * math.ceil(n / batch)
    step, epoch_seconds = 0, []
    for _ in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            for group in optimiser.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            loss = F.cross_entropy(model(shifted(x_train[rows], rng, args.shift)), y_train[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            step += 1
        epoch_seconds.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        right = sum((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item()
                    for i in range(0, len(y_test), 1000))
    print(f"seed {seed}: {args.epochs} epochs, {args.threads} thread(s), median epoch "
          f"{statistics.median(epoch_seconds):.3f} s, test accuracy {100 * right / len(y_test):.2f}%",
          flush=True)
    all_epochs += epoch_seconds
    accuracies.append(right / len(y_test))
print(f"summary: epoch_s_median={statistics.median(all_epochs):.4f} "
      f"test_accuracy_mean={statistics.mean(accuracies):.4f}")

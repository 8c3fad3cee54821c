#!/usr/bin/env python3
"""A 784-128-10 ReLU network in PyTorch, trained as `tests/mnist.rs` trains it in simplenn:
He initialisation (kaiming_normal_, fan-in) and zero biases, softmax cross-entropy, plain
SGD with learning rate 0.1 and no momentum, batches of 64 shuffled every epoch (the last one
smaller), 10 epochs.

    python3 benches/peers/mlp_torch.py --data datasets/mnist-10k --seeds 3

needs PyTorch (Debian: apt-get install python3-torch; or pip install torch numpy). Trains
once per seed on the folder's train-* files and prints each run's test accuracy."""
import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import mnist

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data", required=True, help="a folder with train-* and t10k-* files")
parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 [3]")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
torch.set_num_threads(args.threads)

x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in mnist.load(args.data))
accuracies, epoch_seconds = [], []
for seed in range(args.seeds):
    torch.manual_seed(seed)
    layers = [nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)]
    for layer in layers[::2]:
        nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(layer.bias)
    model = nn.Sequential(*layers)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    start = time.perf_counter()
    for _ in range(args.epochs):
        epoch_start = time.perf_counter()
        order = torch.randperm(len(x_train))
        for batch in order.split(64):
            loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        epoch_seconds.append(time.perf_counter() - epoch_start)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    accuracies.append(accuracy)
    print(f"seed {seed}: test accuracy {100 * accuracy:.2f}%  ({seconds:.1f} s)", flush=True)
print(f"{len(accuracies)} seeds: {100 * min(accuracies):.2f}% to {100 * max(accuracies):.2f}%, "
      f"mean {100 * np.mean(accuracies):.2f}%")
print(f"summary: epoch_s_median={statistics.median(epoch_seconds):.4f} "
      f"test_accuracy_mean={np.mean(accuracies):.4f}")

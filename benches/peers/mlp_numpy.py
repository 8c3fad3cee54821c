#!/usr/bin/env python3
"""The 784-128-10 network of `mlp_torch.py` in NumPy (float32, samples as rows): He
initialisation and zero biases, softmax cross-entropy, plain SGD with learning rate 0.1,
batches of 64 shuffled every epoch (the last one smaller). Like simplenn's `fit`, it
measures each batch's loss and how many it got right as it goes. Written the way a careful
NumPy user would write it, so that its time is NumPy's (OpenBLAS's) best on this work.

    pip install numpy
    OPENBLAS_NUM_THREADS=1 python3 benches/peers/mlp_numpy.py --data datasets/fashion-mnist --epochs 3

Prints each epoch's training time (the loop only: loading and evaluation excluded), then the
median and the test accuracy."""
import argparse
import statistics
import time

import numpy as np

import mnist

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data", required=True, help="a folder with train-* and t10k-* files")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

f32 = np.float32
rng = np.random.default_rng(args.seed)
x_train, y_train, x_test, y_test = mnist.load(args.data)
n, hidden, batch, lr = len(y_train), 128, 64, f32(0.1)
W1 = (rng.standard_normal((784, hidden)) * np.sqrt(2 / 784)).astype(f32)
b1 = np.zeros(hidden, f32)
W2 = (rng.standard_normal((hidden, 10)) * np.sqrt(2 / hidden)).astype(f32)
b2 = np.zeros(10, f32)
one_hot = np.eye(10, dtype=f32)

epoch_seconds = []
for epoch in range(args.epochs):
    start = time.perf_counter()
    order = rng.permutation(n)
    for first in range(0, n, batch):
        rows = order[first:first + batch]
        X, y = x_train[rows], y_train[rows]
        Z1 = X @ W1 + b1
        A1 = np.maximum(Z1, 0)
        Z2 = A1 @ W2 + b2
        Z2 -= Z2.max(axis=1, keepdims=True)
        E = np.exp(Z2)
        P = E / E.sum(axis=1, keepdims=True)
        loss = -np.log(P[np.arange(len(rows)), y]).mean()
        right = (Z2.argmax(axis=1) == y).sum()
        dZ2 = (P - one_hot[y]) * f32(1 / len(rows))
        dW2, db2 = A1.T @ dZ2, dZ2.sum(axis=0)
        dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
        dW1, db1 = X.T @ dZ1, dZ1.sum(axis=0)
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    epoch_seconds.append(time.perf_counter() - start)
    print(f"epoch {epoch + 1}: {epoch_seconds[-1]:.3f} s", flush=True)
scores = np.maximum(x_test @ W1 + b1, 0) @ W2 + b2
accuracy = (scores.argmax(axis=1) == y_test).mean()
print(f"test accuracy {100 * accuracy:.2f}%")
print(f"summary: epoch_s_median={statistics.median(epoch_seconds):.4f} test_accuracy_mean={accuracy:.4f}")

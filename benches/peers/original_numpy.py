#!/usr/bin/env python3
"""The original NumPy project's recipe, for comparison with `simplenn::preset::original`:
784-10-10, ReLU, softmax, every weight and bias from U(-0.5, 0.5) (NumPy's seeded legacy
generator), full-batch gradient descent, learning rate 0.1, 600 steps, in float64, with
samples as columns as the original wrote it. Two of the original's slips are corrected as
simplenn corrects them: each bias gets its own gradient (the sum over its row of dZ, not over
all of dZ), and softmax subtracts the column's maximum first.

    pip install numpy
    python3 benches/peers/original_numpy.py --data datasets/mnist-10k --seeds 10

(`--dtype float32` computes in simplenn's precision, which is what a comparison of time
wants; `side_by_side.py` uses it.)

trains once per seed (0, 1, ...) on the folder's train-* files, prints each run's test
accuracy on its t10k-* files, then the range."""
import argparse
import time

import numpy as np

import mnist

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data", required=True, help="a folder with train-* and t10k-* files")
parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 [10]")
parser.add_argument("--steps", type=int, default=600)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                    help="float64 as the original; float32 as simplenn, for timing [float64]")
args = parser.parse_args()
dtype = np.dtype(args.dtype)

x_train, y_train, x_test, y_test = mnist.load(args.data, dtype.type)
X, Xt = x_train.T.copy(), x_test.T.copy()  # 784 × m: samples as columns
m = X.shape[1]
Y = np.zeros((10, m), dtype)
Y[y_train, np.arange(m)] = 1
lr, m_ = dtype.type(args.lr), dtype.type(m)  # kept in dtype: float32 stays float32


def forward(X, W1, b1, W2, b2):
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    E = np.exp(Z2 - Z2.max(axis=0, keepdims=True))
    return Z1, A1, E / E.sum(axis=0, keepdims=True)


accuracies, times = [], []
for seed in range(args.seeds):
    np.random.seed(seed)
    W1 = (np.random.rand(10, 784) - 0.5).astype(dtype)
    b1 = (np.random.rand(10, 1) - 0.5).astype(dtype)
    W2 = (np.random.rand(10, 10) - 0.5).astype(dtype)
    b2 = (np.random.rand(10, 1) - 0.5).astype(dtype)
    start = time.perf_counter()
    for _ in range(args.steps):
        Z1, A1, A2 = forward(X, W1, b1, W2, b2)
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m_
        db2 = dZ2.sum(axis=1, keepdims=True) / m_
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        dW1 = dZ1 @ X.T / m_
        db1 = dZ1.sum(axis=1, keepdims=True) / m_
        W1 -= lr * dW1
        b1 -= lr * db1
        W2 -= lr * dW2
        b2 -= lr * db2
    seconds = time.perf_counter() - start
    times.append(seconds)
    accuracy = (forward(Xt, W1, b1, W2, b2)[2].argmax(axis=0) == y_test).mean()
    accuracies.append(accuracy)
    print(f"seed {seed}: test accuracy {100 * accuracy:.2f}%  ({seconds:.1f} s)", flush=True)
print(f"{len(accuracies)} seeds: {100 * min(accuracies):.2f}% to {100 * max(accuracies):.2f}%, "
      f"mean {100 * np.mean(accuracies):.2f}%")
print(f"summary: training_s_median={np.median(times):.3f} test_accuracy_mean={np.mean(accuracies):.4f}")

#!/usr/bin/env python3
"""The ONNX half of interop.py, in an interpreter that has `onnx` and `onnxruntime` (and
NumPy), which need not be the one with PyTorch:

    python3 tests/interop/interop_onnx.py MODEL.onnx PROBABILITIES.csv DIGITS_DIR

checks the file with `onnx.checker.check_model(full_check=True)`, runs it in ONNX Runtime
on the folder's t10k-* digits (else its train-* digits), and compares with simplenn's
probabilities (`predict --probabilities`): the same labels, every probability within 1e-5.
Prints one `ok` or `FAIL` line and the largest difference; exit status 1 on a failure."""
import os
import sys

import numpy as np
import onnx
import onnxruntime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "benches", "peers"))
import mnist  # noqa: E402  (the peers' IDX loader, benches/peers/mnist.py)

model, probabilities, data = sys.argv[1:4]
onnx.checker.check_model(onnx.load(model), full_check=True)
prefix = "t10k" if any(os.path.exists(os.path.join(data, f"t10k-images-idx3-ubyte{z}")) for z in ("", ".gz")) else "train"
images = mnist.images(os.path.join(data, f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255
session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
if len(session.get_inputs()[0].shape) == 4:
    images = images.reshape(-1, 1, 28, 28)
theirs = session.run(None, {"input": images})[0].astype(np.float64)
ours = np.loadtxt(probabilities, delimiter=",", skiprows=1)[:, 1:]
same = int((ours.argmax(1) == theirs.argmax(1)).sum())
worst = float(np.abs(ours - theirs).max())
ok = same == len(ours) and worst <= 1e-5
print(f"{'ok' if ok else 'FAIL'}  ONNX Runtime {onnxruntime.__version__} runs {os.path.basename(model)} "
      f"(onnx.checker passed): {same} of {len(ours)} labels the same, largest probability difference {worst:.2e}")
print(f"worst={worst:.3e}")
sys.exit(0 if ok else 1)

"""Reads a folder of MNIST-style files (train-*, t10k-*; raw or .gz) the way simplenn does:
pixels scaled by 1/255, one image per row."""
import gzip
import os
import struct

import numpy as np


def _read(path):
    for name in (path, path + ".gz"):
        if os.path.exists(name):
            with open(name, "rb") as f:
                data = f.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            return data
    raise SystemExit(f"error: {path} (or {path}.gz) not found")


def images(path):
    data = _read(path)
    magic, n, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 0x803:
        raise SystemExit(f"error: {path}: not an IDX image file")
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)


def labels(path):
    data = _read(path)
    magic, n = struct.unpack(">II", data[:8])
    if magic != 0x801:
        raise SystemExit(f"error: {path}: not an IDX label file")
    return np.frombuffer(data, np.uint8, offset=8)[:n].astype(np.int64)


def load(folder, dtype=np.float32):
    """(x_train, y_train, x_test, y_test), x as `dtype` in [0, 1], one image per row."""
    def part(prefix):
        x = images(os.path.join(folder, f"{prefix}-images-idx3-ubyte")).astype(dtype) / dtype(255)
        y = labels(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"))
        return x, y
    return (*part("train"), *part("t10k"))

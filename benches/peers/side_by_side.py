#!/usr/bin/env python3
"""Runs simplenn and its peers on the same work, one after the other on this machine, and
prints how long each takes and the ratios (peer seconds / simplenn seconds: above 1 means
simplenn is faster).

    python3 benches/peers/side_by_side.py --datasets datasets

from the repository's root. `--datasets` is the folder holding `mnist-10k/` (the built-in
digits and MNIST's test files) and `fashion-mnist/`, laid out as the book's "Getting the
data" says. The work:

  mlp       784-128-10, batch 64, plain SGD, one Fashion-MNIST epoch (median of 3):
            simplenn on 1 and 2 threads, NumPy (float32, 1 thread), PyTorch on 1 and 2
  original  the original recipe, 600 full-batch steps on the 10,000 digits: simplenn on 1
            and 2 threads, NumPy (float32, 1 thread)
  cnn       the small CNN, one epoch over the 10,000 digits (median of 3): simplenn and
            PyTorch, each on 1 and 2 threads
  cnn-bn    the same with batch normalisation after each convolution and the dense layer
            (their own activation the identity, the normalisation's ReLU), likewise

Only the Python standard library is needed to run it; a peer whose package (numpy, torch)
is missing is skipped with a line that says so, and so is a workload whose data is missing.
Absolute times move from run to run and machine to machine; compare the ratios of one run.
It is not part of `cargo test`."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--datasets", default=os.path.join(ROOT, "datasets"),
                    help="the folder with mnist-10k/ and fashion-mnist/ [datasets]")
parser.add_argument("--only", choices=["mlp", "original", "cnn", "cnn-bn"], action="append",
                    help="run only this workload (may be given more than once)")
args = parser.parse_args()
# The peers run in their own folder: a relative path must not depend on that.
args.datasets = os.path.abspath(args.datasets)
work = args.only or ["mlp", "original", "cnn", "cnn-bn"]


def python_with(module):
    """A Python interpreter that can import `module`: this one, or Debian's."""
    for python in dict.fromkeys([sys.executable, "/usr/bin/python3", shutil.which("python3")]):
        if python and os.path.exists(python) and subprocess.run(
                [python, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return python
    return None


def blas_env(script):
    """One BLAS thread (PyTorch sets its own pool), and each peer's best OpenBLAS kernel: the
    OpenBLAS of pip's NumPy recognises current CPUs itself, so a forced OPENBLAS_CORETYPE is
    cleared for it; an older one (Debian's, under PyTorch) may not, so a set one is kept."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("OPENBLAS_L2_SIZE", None)
    if "numpy" in script:
        env.pop("OPENBLAS_CORETYPE", None)
    return env


def peer(python, script, *script_args):
    """Runs a peer script and returns the numbers of its `summary:` line."""
    out = subprocess.run([python, os.path.join(HERE, script), *script_args], env=blas_env(script),
                         capture_output=True, text=True, cwd=HERE)
    line = next((l for l in out.stdout.splitlines() if l.startswith("summary:")), None)
    if out.returncode != 0 or line is None:
        sys.exit(f"error: {script} failed:\n{out.stderr[-2000:]}")
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}


subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "train"], cwd=ROOT,
               check=True)
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
train = os.path.join(target, "release", "examples", "train")
scratch = tempfile.mkdtemp()


def simplenn(threads, *train_args):
    """Runs `train` with its metrics written as JSON, and returns its epochs' seconds."""
    metrics = os.path.join(scratch, "metrics.json")
    out = subprocess.run([train, *train_args, "--threads", str(threads), "--metrics", metrics],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"error: train {' '.join(train_args)} failed:\n{out.stderr[-2000:]}")
    with open(metrics) as f:
        return [e["seconds"] for e in json.load(f)["epochs"]]


def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2


numpy, torch = python_with("numpy"), python_with("torch")
rows = []  # (work, who, seconds, simplenn's seconds for the ratio)
skipped = []
if not numpy:
    skipped.append("NumPy: not installed for any python3 here (pip install numpy)")
if not torch:
    skipped.append("PyTorch: not installed for any python3 here (pip install torch, or "
                   "Debian's apt-get install python3-torch)")


if torch:
    # Debian's PyTorch multiplies its dense layers with whatever libblas.so.3 is; the
    # reference BLAS makes it ten times slower than it should be, which is no comparison.
    probe = ("import time, torch; torch.set_num_threads(1); a, b = torch.randn(64, 784), "
             "torch.randn(784, 128); a @ b; t = time.perf_counter()\n"
             "for _ in range(100): a @ b\n"
             "print(2 * 64 * 784 * 128 * 100 / (time.perf_counter() - t) / 1e9)")
    out = subprocess.run([torch, "-c", probe], env=blas_env("torch"), capture_output=True,
                         text=True)
    gflops = float(out.stdout.strip() or 0)
    if gflops < 20:
        print(f"WARNING: PyTorch multiplies at {gflops:.1f} GFLOP/s here: its BLAS is the "
              "reference one, and its times below are not PyTorch's best. On Debian, "
              "apt-get install libopenblas0-pthread (libblas.so.3 then points to OpenBLAS).")


def data(name):
    path = os.path.join(args.datasets, name)
    if os.path.isdir(path):
        return path
    skipped.append(f"{name} workloads: no {path} (see the book's \"Getting the data\")")
    return None


if "mlp" in work and (fashion := data("fashion-mnist")):
    what = "MLP 784-128-10, batch 64, Fashion-MNIST epoch"
    mlp = ["--data", fashion, "--hidden", "128", "--init", "he", "--batch", "64", "--lr", "0.1",
           "--momentum", "0", "--weight-decay", "0", "--label-smoothing", "0",
           "--schedule", "constant", "--shift", "0", "--epochs", "3", "--val-fraction", "0"]
    ours = {t: median(simplenn(t, *mlp)) for t in (1, 2)}
    rows += [(what, "simplenn, 1 thread", ours[1], None), (what, "simplenn, 2 threads", ours[2], ours[1])]
    if numpy:
        s = peer(numpy, "mlp_numpy.py", "--data", fashion, "--epochs", "3")["epoch_s_median"]
        rows.append((what, "NumPy, 1 thread", s, ours[1]))
    if torch:
        for t in (1, 2):
            s = peer(torch, "mlp_torch.py", "--data", fashion, "--seeds", "1", "--epochs", "3",
                     "--threads", str(t))["epoch_s_median"]
            rows.append((what, f"PyTorch, {t} thread{'s' * (t > 1)}", s, ours[t]))

if "original" in work and (digits := data("mnist-10k")):
    what = "original recipe, 600 full-batch steps, 10,000 digits"
    ours = {t: sum(simplenn(t, "--data", digits, "--preset", "original", "--val-fraction", "0"))
            for t in (1, 2)}
    rows += [(what, "simplenn, 1 thread", ours[1], None), (what, "simplenn, 2 threads", ours[2], ours[1])]
    if numpy:
        s = peer(numpy, "original_numpy.py", "--data", digits, "--seeds", "1",
                 "--dtype", "float32")["training_s_median"]
        rows += [(what, "NumPy float32, 1 thread (against simplenn's 1)", s, ours[1]),
                 (what, "NumPy float32, 1 thread (against simplenn's 2)", s, ours[2])]

if "cnn" in work and (digits := data("mnist-10k")):
    what = "small CNN, one epoch over 10,000 digits"
    cnn = ["--data", digits, "--val-fraction", "0", "--arch", "conv5:16,pool2,conv5:32,pool2,dense128",
           "--label-smoothing", "0", "--shift", "0", "--epochs", "3"]
    ours = {t: median(simplenn(t, *cnn)) for t in (1, 2)}
    rows += [(what, "simplenn, 1 thread", ours[1], None), (what, "simplenn, 2 threads", ours[2], ours[1])]
    if torch:
        for t in (1, 2):
            s = peer(torch, "cnn_torch.py", "--data", digits, "--epochs", "3",
                     "--threads", str(t))["epoch_s_median"]
            rows.append((what, f"PyTorch, {t} thread{'s' * (t > 1)}", s, ours[t]))

if "cnn-bn" in work and (digits := data("mnist-10k")):
    what = "small CNN with batch normalisation, one epoch over 10,000 digits"
    arch = ("conv5:16:identity,bn:relu,pool2,conv5:32:identity,bn:relu,pool2,"
            "dense128:identity,bn:relu")
    # No validation split, label smoothing or distortions, on either side: as for `cnn`.
    cnn_bn = ["--data", digits, "--val-fraction", "0", "--arch", arch, "--label-smoothing", "0",
              "--shift", "0", "--rotate", "0", "--scale", "0", "--epochs", "3"]
    ours = {t: median(simplenn(t, *cnn_bn)) for t in (1, 2)}
    rows += [(what, "simplenn, 1 thread", ours[1], None), (what, "simplenn, 2 threads", ours[2], ours[1])]
    if torch:
        for t in (1, 2):
            s = peer(torch, "cnn_bn_torch.py", *cnn_bn, "--threads", str(t))["epoch_s_median"]
            rows.append((what, f"PyTorch, {t} thread{'s' * (t > 1)}", s, ours[t]))

shutil.rmtree(scratch)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           "unknown CPU") if os.path.exists("/proc/cpuinfo") else "unknown CPU"
print(f"on {cpu}, {os.cpu_count()} logical CPUs")
print("| work | who | seconds | ratio |")
print("| --- | --- | --- | --- |")
for what, who, seconds, base in rows:
    ratio = "" if base is None else f"{seconds / base:.2f}"
    if who == "simplenn, 2 threads":
        ratio = f"{base / seconds:.2f}× faster than 1 thread"
    print(f"| {what} | {who} | {seconds:.3f} | {ratio} |")
for line in skipped:
    print(f"SKIPPED {line}")

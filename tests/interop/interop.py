#!/usr/bin/env python3
"""Proves simplenn's exported models against PyTorch and ONNX Runtime. CI runs it
(`.ci/run`); it is a test of the crate's exports and imports, kept with the tests.

1. simplenn trains the default MLP (784-512-256-10), the preset's CNN (conv5:16, pool2,
   conv5:32, pool2, dense128) and a CNN with batch normalisation for an epoch on the
   built-in digits, saves them,
   and exports them with `predict --export`; PyTorch builds the same architectures (below),
   loads the files with the `safetensors` package (`load_state_dict(..., strict=True)`), and
   predicts the digits of the test folder: the labels must be simplenn's, and every
   probability within 1e-5 of simplenn's (`predict --probabilities`).
2. The same models exported as ONNX (`predict --export m.onnx`) pass
   `onnx.checker.check_model` (with shape inference), and ONNX Runtime's predictions must be
   simplenn's in the same way (`interop_onnx.py`, run by the interpreter `--onnx-python`
   names, which needs `onnx` and `onnxruntime` but not PyTorch: Debian's PyTorch wants
   Debian's NumPy 1, and current onnx wants NumPy 2).
3. PyTorch trains its own MLP for one epoch, and a CNN with batch normalisation for 32
   steps, and saves them with safetensors; simplenn imports them (`train --init-from FILE
   --epochs 0 --save`) and must predict as PyTorch does.

    apt-get install python3-torch && /usr/bin/python3 -m pip install safetensors
    python3 -m venv onnx-env && onnx-env/bin/pip install onnx onnxruntime numpy
    /usr/bin/python3 tests/interop/interop.py --onnx-python onnx-env/bin/python [--data DIR]

Prints one line per check and a `summary:` line; exit status 1 if a check fails, 0 with a
SKIPPED line if PyTorch or safetensors is missing."""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--onnx-python", default=sys.executable,
                    help="a Python with onnx and onnxruntime [this one]")
parser.add_argument("--data", default=os.path.join(ROOT, "data", "mnist-10k"),
                    help="folder whose t10k-* (else train-*) digits are predicted [the built-in digits]")
args = parser.parse_args()

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from safetensors.torch import load_file, save_file
except ImportError as e:
    print(f"SKIPPED interop: {e.name} is not installed (pip install safetensors; "
          "PyTorch: apt-get install python3-torch or pip install torch)")
    sys.exit(0)

sys.path.insert(0, os.path.join(ROOT, "benches", "peers"))
import mnist  # noqa: E402  (the peers' IDX loader, benches/peers/mnist.py)

torch.set_num_threads(1)
work = tempfile.mkdtemp()
subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "train", "--example", "predict"],
               cwd=ROOT, check=True)
bin_dir = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "examples")


def run(example, *a):
    out = subprocess.run([os.path.join(bin_dir, example), *a], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"error: {example} {' '.join(a)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def simplenn_probabilities(model):
    path = os.path.join(work, "p.csv")
    run("predict", "--model", model, "--data", args.data, "--probabilities", path)
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    return torch.tensor([[float(v) for v in r[1:]] for r in rows], dtype=torch.float64)


# The same architectures in PyTorch: layers in a ModuleList called `layers`, in simplenn's
# order, pooling included (it holds no tensors), activations applied between them.
class Mlp(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        sizes = [784, *hidden, 10]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class Cnn(nn.Module):
    """conv5:16, pool2, conv5:32, pool2, dense128 ('same' padding): `train --preset cnn`."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(1, 16, 5, padding=2), nn.MaxPool2d(2),
                                     nn.Conv2d(16, 32, 5, padding=2), nn.MaxPool2d(2),
                                     nn.Linear(32 * 7 * 7, 128), nn.Linear(128, 10)])

    def forward(self, x):
        l = self.layers
        x = l[1](F.relu(l[0](x)))
        x = l[3](F.relu(l[2](x)))
        x = F.relu(l[4](x.flatten(1)))  # flattened channels first, as PyTorch does
        return l[5](x)


BN_ARCH = "conv3:8:identity,bn:relu,pool2,dense32:identity,bn:relu"


class BnCnn(nn.Module):
    """conv3:8 without its activation, batch normalisation then ReLU, pool2, dense32 the same
    way, and the output: `train --arch {BN_ARCH}`. Predicts in evaluation mode (`.eval()`),
    with the running statistics."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8),
                                     nn.MaxPool2d(2), nn.Linear(8 * 14 * 14, 32),
                                     nn.BatchNorm1d(32), nn.Linear(32, 10)])

    def forward(self, x):
        l = self.layers
        x = l[2](F.relu(l[1](l[0](x))))
        x = F.relu(l[4](l[3](x.flatten(1))))
        return l[5](x)


def part(prefix):
    x = mnist.images(os.path.join(args.data, f"{prefix}-images-idx3-ubyte")).astype("float32") / 255
    return x, mnist.labels(os.path.join(args.data, f"{prefix}-labels-idx1-ubyte"))


x_train, y_train = part("train")
# `predict --data` reads the t10k-* files when the folder has them, else the train-* files.
has_test = any(os.path.exists(os.path.join(args.data, f"t10k-images-idx3-ubyte{z}")) for z in ("", ".gz"))
x_test, y_test = part("t10k") if has_test else (x_train, y_train)
images = torch.from_numpy(x_test).reshape(-1, 1, 28, 28)
failures = []


def compare(what, ours, theirs):
    same = int((ours.argmax(1) == theirs.argmax(1)).sum())
    worst = float((ours - theirs).abs().max())
    ok = same == len(ours) and worst <= 1e-5
    print(f"{'ok' if ok else 'FAIL'}  {what}: {same} of {len(ours)} labels the same, "
          f"largest probability difference {worst:.2e}")
    if not ok:
        failures.append(what)
    return worst


def can_run_onnx(python):
    try:
        return subprocess.run([python, "-c", "import onnx, onnxruntime, numpy"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


onnx_python = args.onnx_python
if not can_run_onnx(onnx_python):
    print(f"SKIPPED the ONNX checks: {onnx_python} cannot import onnx, onnxruntime and numpy "
          "(give --onnx-python, a Python that can)")
    onnx_python = None
worst, checks = 0.0, 0
for name, train_args, module in [
    ("MLP 784-512-256-10", ["--epochs", "1"], Mlp([512, 256])),
    ("CNN conv5:16,pool2,conv5:32,pool2,dense128", ["--preset", "cnn", "--epochs", "1"], Cnn()),
    (f"CNN with batch normalisation {BN_ARCH}", ["--arch", BN_ARCH, "--epochs", "1"], BnCnn()),
]:
    model = os.path.join(work, "m.snn")
    weights = os.path.join(work, "m.safetensors")
    run("train", *train_args, "--save", model)
    run("predict", "--model", model, "--export", weights)
    module.load_state_dict(load_file(weights), strict=True)
    module.eval()  # batch normalisation by its running statistics
    with torch.no_grad():
        theirs = F.softmax(module(images).double(), dim=1)
    ours = simplenn_probabilities(model)
    worst = max(worst, compare(f"PyTorch runs simplenn's {name}", ours, theirs))
    checks += 1
    if onnx_python:
        stem = name.split()[0].lower() + ("-bn" if "batch normalisation" in name else "")
        graph = os.path.join(work, stem + ".onnx")
        run("predict", "--model", model, "--export", graph)
        out = subprocess.run([onnx_python, os.path.join(HERE, "interop_onnx.py"), graph,
                              os.path.join(work, "p.csv"), args.data], capture_output=True, text=True)
        print(out.stdout.splitlines()[0] if out.stdout else out.stderr[-2000:])
        checks += 1
        if out.returncode != 0:
            failures.append(f"ONNX {name}")
        else:
            worst = max(worst, float(out.stdout.split("worst=")[1]))

# The other way: PyTorch trains, simplenn imports.
torch.manual_seed(0)
net = Mlp([64])
opt = torch.optim.SGD(net.parameters(), lr=0.1)
xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train).long()
for i in range(0, len(xt), 64):
    opt.zero_grad()
    F.cross_entropy(net(xt[i:i + 64]), yt[i:i + 64]).backward()
    opt.step()
weights = os.path.join(work, "torch.safetensors")
save_file({k: v.contiguous() for k, v in net.state_dict().items()}, weights)
imported = os.path.join(work, "from-torch.snn")
run("train", "--hidden", "64", "--init-from", weights, "--epochs", "0", "--save", imported)
with torch.no_grad():
    theirs = F.softmax(net(images).double(), dim=1)
worst = max(worst, compare("simplenn runs PyTorch's MLP 784-64-10", simplenn_probabilities(imported), theirs))

checks += 1

# And a network with batch normalisation, trained by PyTorch (which moves its running
# statistics), imported with its buffers, num_batches_tracked included.
torch.manual_seed(1)
net = BnCnn()
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
net.train()
for i in range(0, 2048, 64):
    opt.zero_grad()
    batch = torch.from_numpy(x_train[i:i + 64]).reshape(-1, 1, 28, 28)
    F.cross_entropy(net(batch), yt[i:i + 64]).backward()
    opt.step()
net.eval()
weights = os.path.join(work, "torch-bn.safetensors")
save_file({k: v.contiguous() for k, v in net.state_dict().items()}, weights)
imported = os.path.join(work, "from-torch-bn.snn")
run("train", "--arch", BN_ARCH, "--init-from", weights, "--epochs", "0", "--save", imported)
with torch.no_grad():
    theirs = F.softmax(net(images).double(), dim=1)
worst = max(worst, compare("simplenn runs PyTorch's CNN with batch normalisation",
                           simplenn_probabilities(imported), theirs))
checks += 1
print(f"summary: checks={checks} failed={len(failures)} worst_probability_difference={worst:.2e} "
      f"digits={len(images)} torch={torch.__version__}")
sys.exit(1 if failures else 0)

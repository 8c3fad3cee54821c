#!/usr/bin/env python3
"""simplenn's `train --preset cnn --arch ARCH [--elastic A:S]` in PyTorch: the same network
and recipe on the same data, to compare accuracies over seeds (batch normalisation among
them) and the time of an epoch.

    python3 benches/peers/cnn_bn_torch.py --data datasets/mnist-10k --seeds 3 --threads 1

does what these do in simplenn, one run per seed:

    cargo run --release --example train -- --data datasets/mnist-10k --preset cnn \\
        --arch conv5:16:identity,bn:relu,pool2,conv5:32:identity,bn:relu,pool2,dense128:identity,bn:relu \\
        --seed 1 --threads 1

- The network: `--arch` read as simplenn reads it (convK:C[:act][:sN][:same|valid|pN],
  poolK, denseN[:act], bn[:act]; relu by default, identity for bn), then a dense output of
  10. Every layer applies its own activation. Images are NCHW here, channels last in
  simplenn: the same network, its dense weights' inputs in another order.
- Initialisation as `train` does it: He (normal, std sqrt(2 / fan-in)) for every convolution
  and dense layer, the output layer and identity layers too (`train` gives all layers the
  scheme of --activation, relu), biases 0; batch normalisation gamma 1, beta 0, running
  mean 0 and variance 1, momentum 0.1, eps 1e-5 (PyTorch's defaults, and simplenn's).
- SGD, momentum 0.9, lr 0.05 on a cosine to 0 over every step, batch 64 shuffled every epoch
  (the last one smaller), weight decay 5e-4 added to the gradient of the weights and of
  batch normalisation's gamma but not of any bias or beta; cross-entropy with label
  smoothing 0.1.
- Every training image, each time it is drawn: a whole-pixel shift of -2..2 each way, a turn
  of up to 15 degrees and a scaling of 1 +- 0.15 about the centre, and with --elastic A:S
  Simard's elastic field, sampled bilinearly with zeros outside: simplenn's `distort_image`.
- The same validation split as `train --seed S --val-fraction F` (its generator is
  reproduced below); the test set is the folder's t10k-* files, evaluated with the running
  statistics.

Seeds are 1..N, as `--seed`, whose default is 1; only the split is simplenn's, the
initial weights, shuffles and distortions are PyTorch's draws. Needs PyTorch (Debian:
apt-get install python3-torch). Prints per run the median seconds of an epoch's training
loop (distortions included, evaluation not) and the accuracies, then their mean and range."""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

import mnist

BN_ARCH = "conv5:16:identity,bn:relu,pool2,conv5:32:identity,bn:relu,pool2,dense128:identity,bn:relu"
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity}


def build(arch, classes=10, image=(1, 28, 28)):
    """The network of `--arch arch` (see simplenn's src/nn/arch.rs), initialised as `train`
    initialises it."""
    layers, (c, h, w), flat = [], image, False

    def activation(name):
        if name not in ACTIVATIONS:
            raise SystemExit(f"error: --arch: unknown activation '{name}'")
        return ACTIVATIONS[name]()

    for token in arch.lower().split(","):
        head, *options = token.strip().split(":")
        if head.startswith("conv") and not flat:
            k, out = int(head[4:]), int(options.pop(0))
            stride, pad, act = 1, (k - 1) // 2, "relu"
            for o in options:
                if o[:1] == "s" and o[1:].isdigit():
                    stride = int(o[1:])
                elif o[:1] == "p" and o[1:].isdigit():
                    pad = int(o[1:])
                elif o in ("same", "valid"):
                    pad = (k - 1) // 2 if o == "same" else 0
                else:
                    act = o
            layers += [nn.Conv2d(c, out, k, stride, pad), activation(act)]
            c, h, w = out, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        elif head.startswith(("pool", "maxpool")) and not flat:
            size = int(head.removeprefix("max")[4:])
            layers.append(nn.MaxPool2d(size))
            h, w = h // size, w // size
        elif head.startswith("dense"):
            if not flat:
                layers.append(nn.Flatten())
                c, flat = c * h * w, True
            units = int(head[5:])
            layers += [nn.Linear(c, units), activation((options or ["relu"])[-1])]
            c = units
        elif head in ("bn", "batchnorm"):
            norm = nn.BatchNorm1d(c) if flat else nn.BatchNorm2d(c)
            layers += [norm, activation((options or ["identity"])[-1])]
        else:
            raise SystemExit(f"error: --arch: '{token}' is not a layer this script builds")
    if not flat:
        layers.append(nn.Flatten())
        c = c * h * w
    model = nn.Sequential(*layers, nn.Linear(c, classes))
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return model


class SimplennRng:
    """simplenn's Rng (xorshift64* seeded through SplitMix64) as far as `shuffle` needs it,
    so that the validation split is the one `train --seed S` makes."""
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        z = (seed + 0x9E3779B97F4A7C15) & self.MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        self.state = (z ^ (z >> 31)) or 0x9E3779B97F4A7C15

    def next_u64(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & self.MASK
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & self.MASK

    def below(self, n):
        """Lemire's multiply-and-reject, as `Rng::below`."""
        product = self.next_u64() * n
        if product & self.MASK < n:
            threshold = ((1 << 64) - n) % n
            while product & self.MASK < threshold:
                product = self.next_u64() * n
        return product >> 64

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def split(n, fraction, seed):
    """`Dataset::split`: the first round(n * fraction) of a shuffle are held out for
    validation; both parts keep the files' order."""
    order = list(range(n))
    SimplennRng(seed).shuffle(order)
    held = set(order[:math.floor(n * fraction + 0.5)])
    return [i for i in range(n) if i not in held], sorted(held)


def gaussian(sigma):
    """A Gaussian sampled at -ceil(3 sigma)..ceil(3 sigma), summing to 1."""
    r = math.ceil(3 * sigma)
    w = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float64) ** 2 / (2 * sigma * sigma))
    return w / w.sum()


def elastic_field(noise, alpha, sigma):
    """`elastic_field`: noise (B, 2, H, W) for (dx, dy), each smoothed by a separable
    Gaussian with zeros beyond the frame, times alpha."""
    b, _, h, w = noise.shape
    k = gaussian(sigma)
    r = len(k) // 2
    x = F.conv2d(noise.reshape(-1, 1, h, w), k.view(1, 1, 1, -1), padding=(0, r))
    x = F.conv2d(x, k.view(1, 1, -1, 1), padding=(r, 0))
    return alpha * x.reshape(b, 2, h, w)


def distort(images, angle, scale, dx, dy, field=None):
    """`distort_image` for a batch (B, 1, H, W), one (angle radians, scale, dx, dy) of shape
    (B,) each per image: output pixel p reads the source point
    R(-angle)(p - c - d) / scale + c (+ the field at p), c = ((W - 1) / 2, (H - 1) / 2),
    bilinearly, with zeros outside the frame. In float64, as simplenn."""
    b, _, h, w = images.shape
    angle, scale, dx, dy = (t.double().view(b, 1, 1) for t in (angle, scale, dx, dy))
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                            torch.arange(w, dtype=torch.float64), indexing="ij")
    cx, cy = (w - 1) / 2, (h - 1) / 2
    qx, qy = (xs - cx - dx) / scale, (ys - cy - dy) / scale
    sin, cos = torch.sin(-angle), torch.cos(-angle)
    sx, sy = cos * qx - sin * qy + cx, sin * qx + cos * qy + cy
    if field is not None:
        sx, sy = sx + field[:, 0], sy + field[:, 1]
    x0, y0 = sx.floor(), sy.floor()
    fx, fy = sx - x0, sy - y0
    x0, y0 = x0.long(), y0.long()
    flat = images.reshape(b, h * w).double()

    def pixel(x, y):
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        at = (y.clamp(0, h - 1) * w + x.clamp(0, w - 1)).reshape(b, -1)
        return flat.gather(1, at).view(b, h, w) * inside

    top = pixel(x0, y0) * (1 - fx) + pixel(x0 + 1, y0) * fx
    bottom = pixel(x0, y0 + 1) * (1 - fx) + pixel(x0 + 1, y0 + 1) * fx
    return (top * (1 - fy) + bottom * fy).to(images.dtype).unsqueeze(1)


def augment(images, args):
    """A random distortion per image, drawn anew each time (`random_warps_with`'s ranges)."""
    if not (args.shift or args.rotate or args.scale or args.elastic):
        return images
    b, _, h, w = images.shape
    uniform = lambda limit: (2 * torch.rand(b, dtype=torch.float64) - 1) * limit
    dx, dy = (torch.randint(-args.shift, args.shift + 1, (b,)) for _ in range(2))
    field = None
    if args.elastic:
        alpha, sigma = args.elastic
        field = elastic_field(2 * torch.rand(b, 2, h, w, dtype=torch.float64) - 1, alpha, sigma)
    return distort(images, torch.deg2rad(uniform(args.rotate)), 1 + uniform(args.scale),
                   dx, dy, field)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        right = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                    for i in range(0, len(y), 1000))
    return right / len(y)


def run(seed, args, data):
    x_all, y_all, x_test, y_test = data
    train_rows, val_rows = split(len(y_all), args.val_fraction, seed)
    x, y = x_all[train_rows], y_all[train_rows]
    torch.manual_seed(seed)
    model = build(args.arch)
    # simplenn decays each layer's weights (gamma for batch normalisation), not its biases.
    params = list(model.named_parameters())
    optimiser = torch.optim.SGD(
        [{"params": [p for name, p in params if name.endswith("weight")], "weight_decay": 5e-4},
         {"params": [p for name, p in params if name.endswith("bias")], "weight_decay": 0.0}],
        lr=0.05, momentum=0.9)
    n, batch = len(y), 64
    total_steps, step, epoch_seconds = args.epochs * math.ceil(n / batch), 0, []
    for _ in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        for first in range(0, n, batch):
            rows = order[first:first + batch]
            for group in optimiser.param_groups:
                group["lr"] = 0.05 * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            loss = F.cross_entropy(model(augment(x[rows], args)), y[rows],
                                   label_smoothing=args.label_smoothing)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            step += 1
        epoch_seconds.append(time.perf_counter() - start)
    val = accuracy(model, x_all[val_rows], y_all[val_rows]) if val_rows else None
    return epoch_seconds, val, accuracy(model, x_test, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a folder with train-* and t10k-* files")
    parser.add_argument("--arch", default=BN_ARCH, help="the hidden layers, as train's --arch")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--elastic", default="off", help="A:S (S 4 if left out), or off [off]")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 1..N [1]")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--shift", type=int, default=2, help="pixels [2]")
    parser.add_argument("--rotate", type=float, default=15.0, help="degrees [15]")
    parser.add_argument("--scale", type=float, default=0.15, help="1 +- F [0.15]")
    args = parser.parse_args()
    if args.elastic == "off":
        args.elastic = None
    else:
        alpha, _, sigma = args.elastic.partition(":")
        args.elastic = (float(alpha), float(sigma or 4))
    torch.set_num_threads(args.threads)

    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in mnist.load(args.data))
    data = (x_train.reshape(-1, 1, 28, 28), y_train, x_test.reshape(-1, 1, 28, 28), y_test)
    all_epochs, vals, tests = [], [], []
    for seed in range(1, args.seeds + 1):
        epoch_seconds, val, test = run(seed, args, data)
        val_text = "no validation set" if val is None else f"validation accuracy {100 * val:.2f}%"
        print(f"seed {seed}: {args.epochs} epoch{'s' * (args.epochs != 1)}, {args.threads} "
              f"thread(s), median epoch "
              f"{statistics.median(epoch_seconds):.3f} s, {val_text}, test accuracy "
              f"{100 * test:.2f}%", flush=True)
        all_epochs += epoch_seconds
        tests.append(test)
        if val is not None:
            vals.append(val)

    def spread(name, xs):
        return (f"{name} {100 * statistics.mean(xs):.2f}% "
                f"({100 * min(xs):.2f}-{100 * max(xs):.2f})")
    spreads = ([spread("validation", vals)] if vals else []) + [spread("test", tests)]
    print(f"over {args.seeds} seed(s): " + ", ".join(spreads))
    print(f"summary: epoch_s_median={statistics.median(all_epochs):.4f} "
          f"test_accuracy_mean={statistics.mean(tests):.4f}"
          + (f" val_accuracy_mean={statistics.mean(vals):.4f}" if vals else ""))


if __name__ == "__main__":
    main()

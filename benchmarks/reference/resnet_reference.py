#!/usr/bin/env python3
"""Reference implementation of OrleansSweep's CIFAR ResNet in PyTorch (Debian's python3-torch, 1.13).

Never a product dependency: it exists to check the TorchSharp model against PyTorch and to compare training speed.

  check DIR            load DIR/final.pt (state dict written by OrleansSweep) and DIR/input.f32, compare logits and
                       loss with DIR/logits.f32 and DIR/meta.json (relative tolerance 1e-4)
  bench B T STEPS      train STEPS SGD steps of ResNet-8 (no BN) at batch B with T threads; print samples/s as JSON
  grid SPEC T [TRIAL]  the loop a researcher would write: train SPEC's grid (a quickstart-like spec: ResNet-8 without BN on
                       Fashion-MNIST, plain SGD at eta = m * eta~, step schedule, test after every epoch, stop at
                       divergence) trial after trial with T threads, or only TRIAL ("bs16-lr2^-8-none-s0"); print each
                       trial's seconds and the total as JSON
"""
import gzip
import re
import resource
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, bn):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=not bn)
        self.norm1 = nn.BatchNorm2d(cout) if bn else nn.Identity()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=not bn)
        self.norm2 = nn.BatchNorm2d(cout) if bn else nn.Identity()
        self.stride, self.pad = stride, (cout - cin) // 2

    def forward(self, x):
        out = F.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        shortcut = x
        if self.stride != 1 or self.pad != 0:  # option A: subsample, zero-pad channels
            shortcut = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    def __init__(self, n=1, bn=False, channels=1, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(channels, 16, 3, padding=1, bias=not bn)
        self.stem_norm = nn.BatchNorm2d(16) if bn else nn.Identity()
        self.stage1 = nn.Sequential(*[BasicBlock(16, 16, 1, bn) for _ in range(n)])
        self.stage2 = nn.Sequential(*[BasicBlock(16 if i == 0 else 32, 32, 2 if i == 0 else 1, bn) for i in range(n)])
        self.stage3 = nn.Sequential(*[BasicBlock(32 if i == 0 else 64, 64, 2 if i == 0 else 1, bn) for i in range(n)])
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.stem_norm(self.stem(x)))
        x = self.stage3(self.stage2(self.stage1(x)))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


def check(directory):
    meta = json.load(open(f"{directory}/meta.json"))
    model = CifarResNet(n=meta["blocks"], bn=meta["bn"] == "batch")
    state = torch.load(f"{directory}/final.pt")
    missing, unexpected = model.load_state_dict(state, strict=False)
    # PyTorch adds num_batches_tracked to BN; TorchSharp's state dict may not carry it. Nothing else may differ.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    assert not missing and not unexpected, (missing, unexpected)
    x = torch.from_numpy(np.fromfile(f"{directory}/input.f32", dtype=np.float32).reshape(meta["input_shape"]))
    y = torch.from_numpy(np.fromfile(f"{directory}/labels.i64", dtype=np.int64))
    expected = torch.from_numpy(np.fromfile(f"{directory}/logits.f32", dtype=np.float32).reshape(len(y), 10))
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
    logit_error = ((logits - expected).abs().max() / expected.abs().max()).item()
    loss_error = abs(loss - meta["loss"]) / abs(meta["loss"])
    ok = logit_error <= 1e-4 and loss_error <= 1e-4
    print(json.dumps({"check": "logits+loss", "max_relative_logit_error": logit_error, "pytorch_loss": loss,
                      "torchsharp_loss": meta["loss"], "relative_loss_error": loss_error, "ok": ok}))
    return 0 if ok else 1


def bench(batch, threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = CifarResNet(n=1, bn=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.0, weight_decay=1e-4)
    images = torch.randn(4096, 1, 28, 28)
    labels = torch.randint(0, 10, (4096,))
    generator = torch.Generator().manual_seed(0)

    def step(i, perm):
        index = perm[(i * batch) % (4096 - batch):][:batch]
        loss = F.cross_entropy(model(images.index_select(0, index)), labels.index_select(0, index))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    perm = torch.randperm(4096, generator=generator)
    for i in range(max(3, steps // 10)):  # warm-up: allocator, kernel selection
        step(i, perm)
    start = time.perf_counter()
    for i in range(steps):
        step(i, perm)
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": "pytorch " + torch.__version__, "batch": batch, "threads": threads, "steps": steps,
                      "samples_per_second": steps * batch / seconds}))
    return 0


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def stratified(labels, count, seed):
    """count examples, the same number per class (as many as fit), drawn with a seeded generator."""
    rng = np.random.default_rng(seed)
    per_class = count // 10
    picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]
    return np.sort(np.concatenate(picks))


def fashion(split, subset, seed, directory="/usr/share/datasets/fashion-mnist"):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(f"{directory}/{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(f"{directory}/{prefix}-labels-idx1-ubyte.gz")
    if subset:
        keep = stratified(labels, subset, seed)
        images, labels = images[keep], labels[keep]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - 0.2860) / 0.3530  # Fashion-MNIST's mean and standard deviation
    return x, torch.from_numpy(labels.astype(np.int64))


def learning_rate(text):
    m = re.fullmatch(r"2\^(-?\d+)", str(text))
    return 2.0 ** int(m.group(1)) if m else float(text)


def train_trial(train, test, batch, lr, seed, training):
    torch.manual_seed(seed)
    model = CifarResNet(n=1, bn=False)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=training.get("momentum", 0.0), weight_decay=training.get("weightDecay", 1e-4))
    x, y = train
    steps_per_epoch = len(x) // batch
    total = steps_per_epoch * training["epochs"]
    generator = torch.Generator().manual_seed(seed)
    initial, step = None, 0
    for epoch in range(training["epochs"]):
        model.train()
        perm = torch.randperm(len(x), generator=generator)
        for s in range(steps_per_epoch):
            if training.get("schedule", "step") == "step":  # LR / 10 at 50% and 75% of the steps
                factor = 0.01 if step >= 0.75 * total else 0.1 if step >= 0.5 * total else 1.0
                for group in opt.param_groups:
                    group["lr"] = lr * factor
            index = perm[s * batch:(s + 1) * batch]
            loss = F.cross_entropy(model(x.index_select(0, index)), y.index_select(0, index))
            opt.zero_grad()
            loss.backward()
            opt.step()
            value = loss.item()
            initial = value if initial is None else initial
            step += 1
            if not np.isfinite(value) or value > 10 * initial:
                return "diverged", None
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(test[0][i:i + 1000]).argmax(1) == test[1][i:i + 1000]).sum()) for i in range(0, len(test[0]), 1000))
    return "completed", correct / len(test[0])


def grid(spec_path, threads, only=None):
    torch.set_num_threads(threads)
    text = "\n".join(line for line in open(spec_path) if not line.lstrip().startswith("//"))
    spec = json.loads(text)
    data, training, g = spec["dataset"], spec["training"], spec["grid"]
    start = time.perf_counter()
    train = fashion("train", data.get("trainSubset"), data.get("subsetSeed", 0))
    test = fashion("test", data.get("testSubset"), data.get("subsetSeed", 0))
    trials = []
    for seed in g.get("seeds", [0]):
        for batch in g["batchSizes"]:
            for base in g["baseLearningRates"]:
                trial_id = f"bs{batch}-lr{base}-none-s{seed}"
                if only and trial_id != only:
                    continue
                clock = time.perf_counter()
                status, accuracy = train_trial(train, test, batch, batch * learning_rate(base), seed, training)
                trials.append({"trial": trial_id, "status": status, "accuracy": accuracy, "seconds": time.perf_counter() - clock})
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": threads, "trials": trials,
                      "seconds": time.perf_counter() - start,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "grid":
        sys.exit(grid(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None))
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if sys.argv[1] == "bench":
        sys.exit(bench(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
    sys.exit(__doc__)

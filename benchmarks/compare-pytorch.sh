#!/usr/bin/env bash
# Side-by-side check and benchmark of OrleansSweep's TorchSharp ResNet-8 against Debian's PyTorch (python3-torch).
# Needs: sudo apt-get install python3-torch. Prints the logits check, then a table of training throughput
# (samples/s, median of REPEATS alternating runs) at batch 8/32/128 with 1 and 2 threads, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${REPEATS:-3}
SAMPLES=${SAMPLES:-3200}       # per measured run, warm-up excluded
PY=/usr/bin/python3            # Debian's interpreter: python3-torch installs there
"$PY" -c 'import torch' 2>/dev/null || { echo "python3-torch is missing: sudo apt-get install python3-torch" >&2; exit 2; }

dotnet build -c Release benchmarks/OrleansSweep.Benchmarks >/dev/null
BENCH=benchmarks/OrleansSweep.Benchmarks/bin/Release/net10.0/OrleansSweep.Benchmarks
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

echo "== correctness: identical weights, same logits and loss (relative tolerance 1e-4)"
for bn in none batch; do
  "$BENCH" export "$work/$bn" "$bn" >/dev/null
  "$PY" benchmarks/reference/resnet_reference.py check "$work/$bn"
done

echo "== throughput: training samples/s, ResNet-8 without BN, 28x28x1, plain SGD ($(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
: > "$work/runs.jsonl"
for threads in 1 2; do
  for batch in 8 32 128; do
    steps=$(( SAMPLES / batch ))
    for r in $(seq "$REPEATS"); do   # alternate the two, so drifts of the machine hit both alike
      "$BENCH" bench "$batch" "$threads" "$steps" >> "$work/runs.jsonl"
      "$PY" benchmarks/reference/resnet_reference.py bench "$batch" "$threads" "$steps" >> "$work/runs.jsonl"
    done
  done
done
"$PY" - "$work/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def median(fw, b, t):
    return statistics.median(r["samples_per_second"] for r in runs if r["framework"].startswith(fw) and r["batch"] == b and r["threads"] == t)
print(f"{'threads':>7} {'batch':>5} {'TorchSharp':>11} {'PyTorch':>9} {'ratio':>6}")
for t in (1, 2):
    for b in (8, 32, 128):
        ts, pt = median("torchsharp", b, t), median("pytorch", b, t)
        print(f"{t:>7} {b:>5} {ts:>11.0f} {pt:>9.0f} {ts / pt:>5.2f}x")
PY

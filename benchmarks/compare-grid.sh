#!/usr/bin/env bash
# The whole quickstart grid through `orleans-sweep run` with default options, side by side with the loop a researcher
# would write (Debian's PyTorch, benchmarks/reference/resnet_reference.py grid: the same trials one after another with
# all cores), then one trial each at 1 thread with its peak memory. Needs: sudo apt-get install python3-torch
# dataset-fashion-mnist. Prints wall times, ratios and trials/hour per core; REPEATS alternating runs, medians.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${REPEATS:-1}
SPEC=${SPEC:-configs/quickstart.json}
TRIAL=${TRIAL:-bs16-lr2^-8-none-s0}
PY=/usr/bin/python3
"$PY" -c 'import torch' 2>/dev/null || { echo "python3-torch is missing: sudo apt-get install python3-torch" >&2; exit 2; }
cores=$(nproc)
dotnet build -c Release src/OrleansSweep.Cli >/dev/null
CLI=(dotnet src/OrleansSweep.Cli/bin/Release/net10.0/orleans-sweep.dll)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
: > "$work/runs.tsv"

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
peak_mib() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%.0f", $1 / 1024 }'; }

echo "== grid: $SPEC, $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
for r in $(seq "$REPEATS"); do   # alternate, so drifts of the machine hit both alike
  rm -rf "$work/study"
  echo -e "grid\torleans-sweep\t$(seconds "${CLI[@]}" run "$SPEC" --study "$work/study" --plain --page-port 0)" >> "$work/runs.tsv"
  echo -e "grid\tpytorch\t$(seconds "$PY" benchmarks/reference/resnet_reference.py grid "$SPEC" "$cores")" >> "$work/runs.tsv"
done
trials=$(awk -F, 'NR > 1' "$work/study/results.csv" | wc -l)
best=$(awk -F, 'NR > 1 && $8 != "" && $8 > b { b = $8 } END { print b + 0 }' "$work/study/results.csv")

echo "== one trial ($TRIAL), 1 thread"
for r in $(seq "$REPEATS"); do
  echo -e "trial\torleans-sweep\t$(seconds "${CLI[@]}" train "$SPEC" --trial "$TRIAL" --threads 1)" >> "$work/runs.tsv"
  echo -e "trial\tpytorch\t$(seconds "$PY" benchmarks/reference/resnet_reference.py grid "$SPEC" 1 "$TRIAL")" >> "$work/runs.tsv"
done
ours_mib=$(peak_mib "${CLI[@]}" train "$SPEC" --trial "$TRIAL" --threads 1)
theirs_mib=$(peak_mib "$PY" benchmarks/reference/resnet_reference.py grid "$SPEC" 1 "$TRIAL")

"$PY" - "$work/runs.tsv" "$cores" "$trials" "$best" "$ours_mib" "$theirs_mib" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
cores, trials, best, ours_mib, theirs_mib = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
def median(kind, who):
    return statistics.median(float(r[2]) for r in rows if r[0] == kind and r[1] == who)
g_ours, g_py = median("grid", "orleans-sweep"), median("grid", "pytorch")
t_ours, t_py = median("trial", "orleans-sweep"), median("trial", "pytorch")
print(f"grid ({trials} trials, best test accuracy {best:.4f}): orleans-sweep run {g_ours:.1f} s, PyTorch loop ({cores} threads) {g_py:.1f} s, "
      f"ratio {g_ours / g_py:.2f}x; trials/hour/core {3600 * trials / g_ours / cores:.1f} vs {3600 * trials / g_py / cores:.1f}")
print(f"one trial, 1 thread: orleans-sweep train {t_ours:.1f} s, PyTorch {t_py:.1f} s, ratio {t_ours / t_py:.2f}x; "
      f"peak memory {ours_mib:.0f} MiB vs {theirs_mib:.0f} MiB ({ours_mib / theirs_mib:.2f}x)")
PY

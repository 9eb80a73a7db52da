#!/usr/bin/env bash
# Copies a finished study's shareable files into docs/results/<name>/ (spec, per-trial results, per-cell grids,
# interpolations, the report with its figures; not state.db or checkpoints), rewrites the report from those files,
# and records `verify`'s verdicts beside them (verify.txt for people, verify.json for scripts).
#   docs/results/publish.sh /path/to/studies/keskar
set -euo pipefail
study=${1:?usage: docs/results/publish.sh STUDY_DIR}
cd "$(dirname "$0")/../.."
name=$(basename "$study")
dest=docs/results/$name
# ORLEANS_SWEEP: a built CLI to use instead (e.g. /tmp/cli/orleans-sweep), so republishing many studies builds once.
if [ -n "${ORLEANS_SWEEP:-}" ]; then cli=("$ORLEANS_SWEEP"); else cli=(dotnet run -c Release --project src/OrleansSweep.Cli --); fi
export COLUMNS=200 # verify.txt: one line per verdict, not wrapped at 80 columns
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
for f in spec.json results.json results.csv grids.json grids.csv interpolations.json interpolations.csv; do
  [ -f "$study/$f" ] && cp "$study/$f" "$dest.tmp/"
done
"${cli[@]}" report "$dest.tmp" >/dev/null
rm -rf "$dest" && mv "$dest.tmp" "$dest"
set +e
"${cli[@]}" verify "$dest" > "$dest/verify.txt"; rc=$?
"${cli[@]}" verify "$dest" --json > "$dest/verify.json"
set -e
[ "$rc" -eq 2 ] && { echo "verify could not judge $study (exit 2):"; cat "$dest/verify.txt"; rm -rf "$dest"; exit 2; }
echo "published $dest (verify exit $rc)"

#!/usr/bin/env bash
# Puts the `orleans-sweep` command on your PATH: publishes the CLI (Release, framework-dependent, this machine's
# runtime only) to $PREFIX/lib/orleans-sweep and links $PREFIX/bin/orleans-sweep to it. PREFIX defaults to ~/.local,
# whose bin/ most Linux shells already have on PATH. Run it again to update; TORCH_BACKEND=cuda publishes the GPU build
# (see README, "GPU build"). Not a `dotnet tool`: the CLI carries libtorch (about 500 MB per platform), which tool
# packages are not made for.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-$HOME/.local}
case "$(uname -m)" in
  x86_64) RID=linux-x64 ;;
  aarch64|arm64) RID=linux-arm64 ;;
  *) echo "error: $(uname -m): no TorchSharp runtime for this machine (expected x86_64 or aarch64)" >&2; exit 2 ;;
esac
TARGET="$PREFIX/lib/orleans-sweep"
echo "Publishing the CLI to $TARGET (a few minutes the first time) ..."
rm -rf "$TARGET.new"
dotnet publish src/OrleansSweep.Cli -c Release -r "$RID" --self-contained false -p:TorchBackend="${TORCH_BACKEND:-cpu}" \
  -o "$TARGET.new" -v quiet -nologo
# Swap the new copy in whole, so a failed publish leaves the installed one as it was.
rm -rf "$TARGET.old"
[ -d "$TARGET" ] && mv "$TARGET" "$TARGET.old"
mv "$TARGET.new" "$TARGET"
rm -rf "$TARGET.old"
mkdir -p "$PREFIX/bin"
ln -sfn "$TARGET/orleans-sweep" "$PREFIX/bin/orleans-sweep"
echo "Installed: $PREFIX/bin/orleans-sweep"
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "Add it to your PATH: export PATH=\"$PREFIX/bin:\$PATH\" (e.g. in ~/.bashrc)" ;;
esac

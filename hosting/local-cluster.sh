#!/usr/bin/env bash
# A local 3-silo cluster on loopback: one coordinator-only silo and two CPU silos sharing a Redis on 127.0.0.1:6379
# (started here if none answers); the coordinator serves the Orleans Dashboard on http://127.0.0.1:8080/, and the
# silos serve Prometheus metrics on http://127.0.0.1:9464/metrics, :9465 and :9466.
# Ctrl-C stops them all. Submit and watch from another terminal:
#   dotnet run -c Release --project src/OrleansSweep.Cli -- submit configs/quickstart.json
#   dotnet run -c Release --project src/OrleansSweep.Cli -- watch quickstart
set -euo pipefail
cd "$(dirname "$0")/.."
REDIS=${REDIS:-127.0.0.1:6379}
ARTIFACTS=${ARTIFACTS:-$PWD/studies/cluster-artifacts}

if ! redis-cli -u "redis://$REDIS" ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || { echo "redis-server is missing: sudo apt-get install redis-server" >&2; exit 2; }
  redis-server --bind 127.0.0.1 --port "${REDIS##*:}" --save "" --appendonly no --daemonize yes >/dev/null
  echo "started a scratch Redis on $REDIS"
fi

dotnet build -c Release src/OrleansSweep.Cli >/dev/null
CLI=(dotnet src/OrleansSweep.Cli/bin/Release/net10.0/orleans-sweep.dll silo --redis "$REDIS" --artifacts "$ARTIFACTS")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
"${CLI[@]}" --coordinator-only --silo-port 11111 --gateway-port 30000 --dashboard-port "${DASHBOARD_PORT:-8080}" --metrics-port 9464 & pids+=($!)
"${CLI[@]}" --device cpu --slots 1 --threads 1 --silo-port 11112 --gateway-port 30001 --dashboard-port 0 --metrics-port 9465 & pids+=($!)
"${CLI[@]}" --device cpu --slots 1 --threads 1 --silo-port 11113 --gateway-port 30002 --dashboard-port 0 --metrics-port 9466 & pids+=($!)
wait

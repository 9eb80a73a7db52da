#!/usr/bin/env bash
# For README's Reliability rows: removes (or defeats) the one product line that each row's guarantee rests on, runs the
# test that carries the row, and checks that the test now FAILS; then puts the line back. A row whose test still passes
# with its guard gone would be a test that cannot fail. Takes a few minutes (one build and test run per guard); not a
# CI step. Mutations are runtime-false conditions, never `if (false)`: the build treats unreachable code as an error.
# Run from the repository root on a clean tree:  bash tools/check-reliability-guards.sh [text of the rows to check]
set -uo pipefail
cd "$(dirname "$0")/.."
if ! git diff --quiet; then echo "error: the working tree has changes; commit or stash them first (this script edits and restores files)" >&2; exit 2; fi

# row | file | the guard (literal text, must occur once) | what it becomes | test project | test filter
guards=(
  "result reported twice: recorded once|src/OrleansSweep.Core/Sweeps/SweepLedger.cs|if (IsRecorded(status) \|\| _state.Cancelled.ContainsKey(result.TrialId))|if (_state.Cancelled.ContainsKey(result.TrialId))|tests/OrleansSweep.Core.Tests|FullyQualifiedName~A_result_is_recorded_exactly_once"
  "a refused repeat is counted and shown|src/OrleansSweep.Core/Sweeps/SweepLedger.cs|_state.DuplicateReports[result.TrialId] = _state.DuplicateReports.GetValueOrDefault(result.TrialId) + 1;|{ }|tests/OrleansSweep.Core.Tests|FullyQualifiedName~A_result_is_recorded_exactly_once"
  "a NaN or infinite metric is diverged, never converged|src/OrleansSweep.Core/Sweeps/SweepLedger.cs|var recorded = result.WithNonFiniteMetricsAsDivergence() with|var recorded = result with|tests/OrleansSweep.Core.Tests|FullyQualifiedName~nan_test_loss"
  "transient failure: gives up after 3 attempts|src/OrleansSweep.Core/Trials/RetryBackoff.cs|public bool AllowsAnotherAttempt(int attemptsSoFar) => attemptsSoFar < MaxAttempts;|public bool AllowsAnotherAttempt(int attemptsSoFar) => true;|tests/OrleansSweep.Core.Tests|FullyQualifiedName~gives_up_after_the_last_attempt"
  "trial diverges: recorded as diverged|src/OrleansSweep.Training/Trainer/TrialTrainer.cs|if (!double.IsFinite(loss) \|\| loss > trial.Training.DivergenceFactor * initialLoss.Value)|if (trial.BatchSize < 0)|tests/OrleansSweep.Training.Tests|FullyQualifiedName~A_huge_learning_rate_diverges"
  "corrupt checkpoint: set aside, the previous good one used|src/OrleansSweep.Training/Checkpoints/CheckpointStore.cs|catch (CorruptCheckpointException e)|catch (CorruptCheckpointException e) when (path.Length < 0)|tests/OrleansSweep.Training.Tests|FullyQualifiedName~A_corrupt_newest_checkpoint"
  "a trial stopped part-way through an epoch: that step is checkpointed|src/OrleansSweep.Training/Trainer/TrialTrainer.cs|if (context.Checkpoints is { } stopStore && s > firstStep)|if (context.Checkpoints is { } stopStore && s > firstStep && trial.BatchSize < 0)|tests/OrleansSweep.Training.Tests|FullyQualifiedName~part_way_through_an_epoch"
  "an expired lease sends the trial back through the retry path|src/OrleansSweep.Core/Sweeps/SweepLedger.cs|_leaseExpiry.GetValueOrDefault(id, DateTime.MaxValue) < now|_leaseExpiry.GetValueOrDefault(id, DateTime.MaxValue) < DateTime.MinValue|tests/OrleansSweep.Core.Tests|FullyQualifiedName~An_expired_lease"
  "deterministic failure: failed at once, one attempt|src/OrleansSweep.Grains/Trials/TrialRunner.cs|when (e is DatasetException or ArgumentException or SpecException)|when (e is SpecException)|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~Deterministic_failures_fail_fast"
  "device-less silo: never hosts a trial|src/OrleansSweep.Grains/Placement/DevicePlacement.cs|silos.Where(silo => metadata|silos.Where(silo => true \|\| metadata|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~Trials_never_land_on_a_silo_without_devices"
  "packing by batch: a large-batch trial gets its device whole|src/OrleansSweep.Grains/Devices/DeviceOptions.cs|int byBatch = BatchPerSlot is int perSlot && perSlot > 0 ? (batchSize + perSlot - 1) / perSlot : 1;|int byBatch = 1;|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~The_same_grid_packed_one_or_two_to_a_cpu"
  "stale writer: refused by its ETag|hosting/OrleansSweep.Hosting/SqliteGrainStorage.cs|AND grain_id = \$g AND etag = \$current\";|AND grain_id = \$g\";|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~A_stale_writer_is_refused"
)

failed=0
only=${1:-}  # optional: check only the rows whose text contains this
for guard in "${guards[@]}"; do
  IFS='|' read -r row file line replacement project filter <<<"$(sed 's/\\|/\x1f/g' <<<"$guard")"
  [ -n "$only" ] && [[ "$row" != *"$only"* ]] && continue
  line=${line//$'\x1f'/|}; replacement=${replacement//$'\x1f'/|}
  count=$(grep -cF -- "$line" "$file")
  if [ "$count" != 1 ]; then echo "STALE  $row: the guard is not in $file exactly once (found $count): update this script"; failed=1; continue; fi
  python3 - "$file" "$line" "$replacement" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
open(path, 'w').write(text.replace(old, new, 1))
PY
  if dotnet test "$project" --filter "$filter" >/tmp/reliability-guard.log 2>&1; then
    echo "WEAK   $row: $project ($filter) still passes without the guard in $file"; failed=1
  elif grep -q "error CS" /tmp/reliability-guard.log; then
    echo "STALE  $row: the mutated $file does not compile: update this script"; failed=1
  else
    echo "ok     $row: removing it from $file fails $filter"
  fi
  git checkout -- "$file"
done
exit $failed

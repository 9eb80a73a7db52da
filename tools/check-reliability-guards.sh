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
  "a device silo killed mid-sweep: its trial finishes on the survivor from its checkpoint|src/OrleansSweep.Training/Trainer/TrialTrainer.cs|if (load.Checkpoint is { } checkpoint)|if (load.Checkpoint is { } checkpoint && trial.BatchSize < 0)|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~Killing_a_device_silo_mid_sweep"
  "a device silo joins mid-sweep: it receives trials|src/OrleansSweep.Grains/Placement/ClusterCapacity.cs|public int DeviceSlots =>|private int? _frozen; public int DeviceSlots => _frozen ?? (int)(_frozen = Live); private int Live =>|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~A_device_silo_joining_mid_sweep"
  "the whole cluster restarts: the sweep resumes by itself via its reminder|src/OrleansSweep.Grains/Sweeps/SweepGrain.cs|if (Settings.UseReminders) await this.RegisterOrUpdateReminder(|if (Settings.UseReminders && Name.Length < 0) await this.RegisterOrUpdateReminder(|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~After_a_whole_cluster_restart"
  "kill -9 of an embedded run, then resume: finished trials kept|src/OrleansSweep.Core/Sweeps/SweepLedger.cs|if (IndexOf(trialId) is not int index \|\| IsRecorded(_status[index]) \|\| !IsRecorded(status)) continue;|if (IndexOf(trialId) is not int index \|\| IsRecorded(_status[index]) \|\| !IsRecorded(status) \|\| trialId.Length > 0) continue;|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~A_killed_run_resumes"
  "Ctrl-C (SIGINT) of a run: exits 130|src/OrleansSweep.Cli/RunCommand.cs|if (cancelled \|\| final.State == SweepState.Cancelled)|if ((cancelled \|\| final.State == SweepState.Cancelled) && spec.Name.Length < 0)|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~Ctrl_C_stops_a_run"
  "pause / resume: trials stop at a step|src/OrleansSweep.Grains/Sweeps/SweepGrain.cs|foreach (string trialId in running) await TrialGrainFor(_ledger.Trial(trialId)).Cancel();|foreach (string trialId in running.Where(t => t.Length < 0)) await TrialGrainFor(_ledger.Trial(trialId)).Cancel();|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~Pause_stops_trials_at_a_step"
  "a silo process gets SIGTERM: its trials checkpoint and finish elsewhere|src/OrleansSweep.Grains/Trials/TrialRunner.cs|CreateLinkedTokenSource(trialCancellation, lifetime.ApplicationStopping);|CreateLinkedTokenSource(trialCancellation, trial.BatchSize < 0 ? lifetime.ApplicationStopping : CancellationToken.None);|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~A_silo_stopped_with_SIGTERM"
  "resume from any checkpoint: bit-identical|src/OrleansSweep.Training/Trainer/TrialTrainer.cs|using (var reader = new BinaryReader(new MemoryStream(checkpoint.Optimizer))) optimizer.load_state_dict(reader);|if (checkpoint.Step < 0) using (var reader = new BinaryReader(new MemoryStream(checkpoint.Optimizer))) optimizer.load_state_dict(reader);|tests/OrleansSweep.Training.Tests|FullyQualifiedName~Resuming_from_any_checkpoint"
  "bad input catalogue: one error: line, non-zero exit|src/OrleansSweep.Cli/CliApp.cs|catch (Exception e) when (Core.UserErrors.Find(e) is { } user)|catch (Exception e) when (Core.UserErrors.Find(e) is { } user && user.Data.Count < 0)|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~BadInputCatalogueTests"
  "the shipped silo configurations (coordinator-only expressible)|src/OrleansSweep.Grains/Devices/DeviceOptions.cs|if (!CoordinatorOnly && !named && Devices.Count == 0) Devices = [DefaultDevice];|if (!CoordinatorOnly && (!named \|\| Section.Length > 0) && Devices.Count == 0) Devices = [DefaultDevice];|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~ShippedConfigurationTests"
  "a silo configured with cuda:N it cannot use refuses to start|hosting/OrleansSweep.Hosting/SiloPreflight.cs|if (TorchDevices.Unavailability(device) is { } why)|if (TorchDevices.Unavailability(device) is { } why && why.Length < 0)|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~A_cuda_device_this_cpu_build_cannot_use"
  "a corrupt state.db: resume fails in one line naming the file|src/OrleansSweep.Cli/RunCommand.cs|SqliteGrainStorage.EnsureReadable(Path.Combine(study, StudyLayout.StateFileName));|if (study.Length < 0) SqliteGrainStorage.EnsureReadable(Path.Combine(study, StudyLayout.StateFileName));|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~A_corrupt_state_file_fails_resume"
  "generated hostile input: one line per problem|src/OrleansSweep.Core/UserErrorException.cs|if (!text.Any(NeedsEscape)) return text;|if (text.Length >= 0) return text;|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~Mutated_specs_get_exit_0"
  "hostile specs: a key given twice refused|src/OrleansSweep.Core/Specs/SweepSpecLoader.cs|AllowDuplicateProperties = false,|AllowDuplicateProperties = DateTime.UtcNow.Year > 0,|tests/OrleansSweep.Core.Tests|FullyQualifiedName~A_key_given_twice"
  "the same sweep name with another spec (cluster): refused|src/OrleansSweep.Core/Sweeps/SweepLedger.cs|if (GridExtension.Differences(stored, spec) is { Count: > 0 } differences)|if (GridExtension.Differences(stored, spec) is { Count: > 0 } differences && spec.Name.Length < 0)|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~Submit_watch_status_and_list"
  "a second run/resume of a running study: refused by the OS lock|src/OrleansSweep.Study/StudyDirectory.cs|return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);|return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, path.Length < 0 ? FileShare.None : FileShare.ReadWrite);|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~one_study_runs_once_at_a_time"
  "the standalone silo host with bad values: one line, exit 2|hosting/OrleansSweep.SiloHost/Program.cs|catch (Exception e) when (e is OrleansSweep.Core.IUserError user)|catch (Exception e) when (e is OrleansSweep.Core.IUserError user && user.ExitCode < 0)|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~SiloHostTests"
  "kill -9 of a training silo process: resumed from its last epoch checkpoint|src/OrleansSweep.Training/Trainer/TrialTrainer.cs|if (context.Checkpoints is { } checkpoints && every > 0 && (epoch % every == 0 \|\| epoch == trial.Training.Epochs))|if (context.Checkpoints is { } checkpoints && every > 0 && (epoch % every == 0 \|\| epoch == trial.Training.Epochs) && trial.BatchSize < 0)|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~Kill_9_of_a_training_silo"
  "kill -9 of every process of the cluster: bit-identical|src/OrleansSweep.Training/Trainer/TrialTrainer.cs|using (var state = tensor(checkpoint.PermutationRng, ScalarType.Byte)) permutationRng.set_state(state);|if (checkpoint.Step < 0) using (var state = tensor(checkpoint.PermutationRng, ScalarType.Byte)) permutationRng.set_state(state);|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~Every_process_killed"
  "Redis down for 10 s mid-sweep: failed state writes retried|src/OrleansSweep.Grains/Trials/TrialResilience.cs|ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not ArgumentException),|ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is ArgumentException),|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~Redis_down_for_10_seconds"
  "TLS between silos and clients: another certificate refused|src/OrleansSweep.Abstractions/ClusterTls.cs|errors == SslPolicyErrors.None \|\| remote.RawData.AsSpan().SequenceEqual(certificate.RawData);|errors == SslPolicyErrors.None \|\| remote.RawData.Length > 0;|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~TlsClusterTests"
  "a client whose cluster has no silo up: says which|src/OrleansSweep.Cli/ClusterConnection.cs|if (failure is SiloUnavailableException && failure.Message.Contains(\"gateway\", StringComparison.OrdinalIgnoreCase))|if (failure is SiloUnavailableException && failure.Message.Contains(\"gateway\", StringComparison.OrdinalIgnoreCase) && settings.Redis.Length < 0)|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~A_cluster_with_no_silo_up"
  "a control call while the sweep's silo is lost: retried|src/OrleansSweep.Client/SweepClientServices.cs|public static bool IsRetryable(Exception e) => e is not|public static bool IsRetryable(Exception e) => e.Data.Count < 0 && e is not|tests/OrleansSweep.Grains.Tests|FullyQualifiedName~Every_control_call_is_retried"
  "a dataset outside the silos' data roots: refused at submit|src/OrleansSweep.Core/Sweeps/SweepLedger.cs|if (PathContainment.DatasetViolation(spec.Dataset, dataRoots) is { } violation) errors = [.. errors, violation];|if (PathContainment.DatasetViolation(spec.Dataset, dataRoots) is { } violation && spec.Name.Length < 0) errors = [.. errors, violation];|tests/OrleansSweep.Cli.Tests|FullyQualifiedName~a_spec_reading_outside_the_data_roots"
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

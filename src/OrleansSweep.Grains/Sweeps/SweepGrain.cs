using Microsoft.Extensions.Options;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// Owns one sweep: validates and expands the spec, keeps up to the concurrency limit of trials running in grid order,
/// records each result exactly once (persisting before acknowledging), and finishes when every cell has a result.
/// </summary>
public sealed class SweepGrain(
    [PersistentState("sweep", SweepOptions.StorageName)] IPersistentState<SweepGrainState> state,
    IOptions<SweepOptions> options) : Grain, ISweepGrain
{
    private IReadOnlyList<TrialSpec> _trials = [];
    private readonly Dictionary<string, TrialProgress> _progress = new();

    private SweepGrainState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Spec is null) return;
        _trials = GridExpander.Expand(S.Spec);
        if (S.State == SweepState.Running)
        {
            // After a restart: trials marked running may have lost their silo. Starting them again is safe: a trial
            // grain that is still training ignores it, one that finished re-reports its result.
            foreach (var trial in _trials.Where(t => S.Statuses[t.TrialId] == TrialStatus.Running))
                await TrialGrainFor(trial).Start(trial);
            await DispatchAsync();
        }
    }

    public async Task<SweepSnapshot> Start(SweepSpec spec)
    {
        var errors = SpecValidator.Validate(spec);
        if (errors.Count > 0) throw new SpecException($"sweep '{spec.Name}'", errors);
        if (spec.Name != this.GetPrimaryKeyString())
            throw new ArgumentException($"spec name '{spec.Name}' does not match sweep '{this.GetPrimaryKeyString()}'.");
        string fingerprint = SpecFingerprint.Compute(spec);
        if (S.Spec is not null)
        {
            if (S.SpecFingerprint != fingerprint)
                throw new ArgumentException(
                    $"sweep '{spec.Name}' already exists with a different spec; choose another name (or delete its study) to run this one.");
            if (S.State == SweepState.Cancelled) await ResumeCancelledAsync();
            return Snapshot();
        }

        _trials = GridExpander.Expand(spec);
        S.Spec = spec;
        S.SpecFingerprint = fingerprint;
        S.State = SweepState.Running;
        S.Statuses = _trials.ToDictionary(t => t.TrialId, _ => TrialStatus.Pending);
        await state.WriteStateAsync();
        await DispatchAsync();
        return Snapshot();
    }

    /// <summary>Starting a cancelled sweep again resumes it: its cancelled trials run again (from their checkpoints).</summary>
    private async Task ResumeCancelledAsync()
    {
        foreach (var (id, result) in S.Results.Where(r => r.Value.Status == TrialStatus.Cancelled).ToList())
        {
            S.Results.Remove(id);
            S.Statuses[id] = TrialStatus.Pending;
        }
        foreach (var id in S.Statuses.Where(s => s.Value == TrialStatus.Cancelled).Select(s => s.Key).ToList())
            S.Statuses[id] = TrialStatus.Pending;
        S.State = S.Results.Count == _trials.Count ? SweepState.Completed : SweepState.Running;
        await state.WriteStateAsync();
        await DispatchAsync();
    }

    public Task<SweepSnapshot> GetSnapshot() => Task.FromResult(Snapshot());

    public Task ReportProgress(string trialId, EpochMetrics metrics)
    {
        if (S.Statuses.GetValueOrDefault(trialId) == TrialStatus.Running && S.Spec is not null)
            _progress[trialId] = new TrialProgress(trialId, metrics.Epoch, S.Spec.Training.Epochs, metrics);
        return Task.CompletedTask;
    }

    public async Task ReportResult(TrialResult result)
    {
        if (!S.Statuses.TryGetValue(result.TrialId, out var status))
            throw new ArgumentException($"sweep '{this.GetPrimaryKeyString()}' has no trial '{result.TrialId}'.");
        if (S.Results.ContainsKey(result.TrialId)) return; // exactly once: a repeated report changes nothing
        if (result.Status == TrialStatus.Cancelled && S.State != SweepState.Cancelled && status == TrialStatus.Running)
        {
            // A trial stopped without the sweep asking (e.g. its silo shut down): run it again.
            S.Statuses[result.TrialId] = TrialStatus.Pending;
        }
        else
        {
            S.Statuses[result.TrialId] = result.Status;
            S.Results[result.TrialId] = result;
        }
        _progress.Remove(result.TrialId);
        if (S.State == SweepState.Running && S.Results.Count == _trials.Count) S.State = SweepState.Completed;
        await state.WriteStateAsync();
        await DispatchAsync();
    }

    public async Task Cancel()
    {
        if (S.State != SweepState.Running) return;
        S.State = SweepState.Cancelled;
        await state.WriteStateAsync();
        foreach (var trial in _trials.Where(t => S.Statuses[t.TrialId] == TrialStatus.Running))
            await TrialGrainFor(trial).Cancel();
    }

    /// <summary>Starts pending trials, in grid order, until the concurrency limit is reached.</summary>
    private async Task DispatchAsync()
    {
        if (S.State != SweepState.Running || S.Spec is null) return;
        int limit = S.Spec.Execution.MaxConcurrentTrials ?? options.Value.DefaultMaxConcurrentTrials;
        int running = S.Statuses.Values.Count(s => s == TrialStatus.Running);
        var toStart = _trials.Where(t => S.Statuses[t.TrialId] == TrialStatus.Pending).Take(Math.Max(0, limit - running)).ToList();
        if (toStart.Count == 0) return;
        foreach (var trial in toStart) S.Statuses[trial.TrialId] = TrialStatus.Running;
        await state.WriteStateAsync();
        await Task.WhenAll(toStart.Select(t => TrialGrainFor(t).Start(t)));
    }

    private ITrialGrain TrialGrainFor(TrialSpec trial) =>
        GrainFactory.GetGrain<ITrialGrain>(ITrialGrain.KeyFor(trial.SweepName, trial.TrialId));

    private SweepSnapshot Snapshot() => new()
    {
        Name = this.GetPrimaryKeyString(),
        State = S.State,
        Spec = S.Spec,
        TotalTrials = _trials.Count,
        Statuses = new Dictionary<string, TrialStatus>(S.Statuses),
        Results = new Dictionary<string, TrialResult>(S.Results),
        Running = _progress.Values.ToList(),
    };
}

using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// The result log in memory, for silos whose sweep state is in memory too (tests): held by one grain per sweep, so it
/// lives as long as that grain's silo, as Orleans' memory grain storage does, and every silo sees the same records.
/// </summary>
public sealed class MemoryTrialResultLog(IGrainFactory grains) : ITrialResultLog
{
    private IMemoryResultLogGrain Log(string sweep) => grains.GetGrain<IMemoryResultLogGrain>(sweep);

    public Task AppendAsync(string sweep, IReadOnlyList<TrialResult> results) => Log(sweep).Append([.. results]);

    public async Task<IReadOnlyList<RecordedTrial>> ReadTrialsAsync(string sweep) =>
        (await Log(sweep).Read(0, int.MaxValue)).Select(r => new RecordedTrial(r.Result.TrialId, r.Result.Status)).ToList();

    public async Task<IReadOnlyList<RecordedResult>> ReadAsync(string sweep, long afterSequence = 0, int limit = int.MaxValue) =>
        await Log(sweep).Read(afterSequence, limit);

    public Task<long> LastSequenceAsync(string sweep) => Log(sweep).LastSequence();
}

[Alias("OrleansSweep.Grains.IMemoryResultLogGrain")]
public interface IMemoryResultLogGrain : IGrainWithStringKey
{
    Task Append(List<TrialResult> results);
    Task<List<RecordedResult>> Read(long afterSequence, int limit);
    Task<long> LastSequence();
}

public sealed class MemoryResultLogGrain : Grain, IMemoryResultLogGrain
{
    private readonly List<RecordedResult> _records = new();
    private readonly HashSet<string> _trials = new();

    public Task Append(List<TrialResult> results)
    {
        foreach (var result in results)
            if (_trials.Add(result.TrialId)) _records.Add(new RecordedResult(_records.Count + 1, result));
        return Task.CompletedTask;
    }

    public Task<List<RecordedResult>> Read(long afterSequence, int limit) =>
        Task.FromResult(_records.Skip((int)Math.Min(afterSequence, _records.Count)).Take(limit).ToList());

    public Task<long> LastSequence() => Task.FromResult((long)_records.Count);

    // Memory only: kept while its silo lives, however long nobody asks (the sweep may be idle for a while).
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.DelayDeactivation(TimeSpan.FromDays(365));
        return Task.CompletedTask;
    }
}

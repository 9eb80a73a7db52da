using Orleans.Concurrency;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Abstractions;

/// <summary>
/// One trial, keyed "{sweep}/{trialId}". <see cref="Start"/> returns at once: training runs on a dedicated thread of
/// the silo and the result is reported to the sweep grain (a grain call may not outlive the 30 s response timeout).
/// </summary>
public interface ITrialGrain : IGrainWithStringKey
{
    Task Start(TrialSpec trial);

    [AlwaysInterleave]
    Task Cancel();

    public static string KeyFor(string sweepName, string trialId) => $"{sweepName}/{trialId}";
}

using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Grains.Trials;

/// <summary>Runs one trial to its result, synchronously, on the calling (dedicated) thread.</summary>
public interface ITrialExecutor
{
    TrialResult Execute(TrialSpec trial, string device, int threads, IProgress<EpochMetrics> progress, CancellationToken cancellation);
}

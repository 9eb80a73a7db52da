using System.Diagnostics;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Models;
using OrleansSweep.Training.Trainer;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Landscape;

/// <summary>A sweep's interpolation job: loads two trials' exported final weights and evaluates the line between them.</summary>
public static class InterpolationStage
{
    /// <param name="finalWeights">Where a trial's final.pt lives, by trial id.</param>
    public static TrialResult Run(TrialSpec job, DatasetPair data, Device device, Func<string, string> finalWeights, CancellationToken cancellation = default)
    {
        var interpolation = job.Interpolation ?? throw new ArgumentException($"trial {job.TrialId} is not an interpolation job.", nameof(job));
        var clock = Stopwatch.StartNew();
        using var tensors = TensorData.Create(data, device);
        var small = LoadState(job, interpolation.SmallTrialId, finalWeights, data, device);
        var large = LoadState(job, interpolation.LargeTrialId, finalWeights, data, device);
        try
        {
            using var probe = ModelFactory.Create(job.Model, job.ParsedBnMode, job.Seed, data.Train.Channels, data.Train.Height, data.Train.Width);
            probe.to(device);
            var points = new List<InterpolationPoint>();
            foreach (double alpha in LineInterpolation.Alphas(interpolation.Points))
            {
                cancellation.ThrowIfCancellationRequested();
                points.AddRange(LineInterpolation.Evaluate(probe, small, large, tensors, [alpha], job.Training.EvaluationBatchSize,
                    interpolation.UsesBatchStatistics));
            }
            return new TrialResult
            {
                TrialId = job.TrialId, Status = TrialStatus.Completed, Device = device.ToString(), Seconds = clock.Elapsed.TotalSeconds,
                Interpolation = new InterpolationResult(interpolation.Name, interpolation.SmallTrialId, interpolation.LargeTrialId, points),
            };
        }
        finally
        {
            foreach (var t in small.Values.Concat(large.Values)) t.Dispose();
        }
    }

    private static Dictionary<string, Tensor> LoadState(TrialSpec job, string trialId, Func<string, string> finalWeights, DatasetPair data, Device device)
    {
        string path = finalWeights(trialId);
        if (!File.Exists(path))
            throw new ArgumentException($"interpolation '{job.Interpolation!.Name}': final weights of trial {trialId} not found at {path} " +
                "(expected the trial's exported final.pt; in a cluster the artifact directory must be shared by all silos).");
        using var model = ModelFactory.Create(job.Model, job.ParsedBnMode, job.Seed, data.Train.Channels, data.Train.Height, data.Train.Width);
        model.load_py(path);
        model.to(device);
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }
}

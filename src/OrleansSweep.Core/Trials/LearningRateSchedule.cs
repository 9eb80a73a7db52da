using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Trials;

/// <summary>The multiplier of the peak learning rate eta at each SGD step.</summary>
public static class LearningRateSchedule
{
    public const double WarmupFraction = 0.05;
    public const double WarmupStartFactor = 1.0 / 32;

    public static double Factor(TrainingSpec training, long step, long totalSteps)
    {
        double factor = training.Schedule switch
        {
            "constant" => 1.0,
            // Masters & Luschi, He et al.: divide by 10 at 50% and again at 75% of the iterations.
            "step" => step >= 0.75 * totalSteps ? 0.01 : step >= 0.5 * totalSteps ? 0.1 : 1.0,
            "cosine" => 0.5 * (1 + Math.Cos(Math.PI * step / Math.Max(1, totalSteps))),
            _ => throw new ArgumentException($"training.schedule: unknown schedule '{training.Schedule}'."),
        };
        if (training.Warmup)
        {
            // Goyal et al.: from eta/32, linearly to the schedule's value over the first 5% of the iterations.
            double warmupSteps = Math.Max(1, WarmupFraction * totalSteps);
            if (step < warmupSteps) factor *= WarmupStartFactor + (1 - WarmupStartFactor) * step / warmupSteps;
        }
        return factor;
    }
}

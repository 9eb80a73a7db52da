namespace OrleansSweep.Core.Trials;

/// <summary>
/// How long a trial waits before its next attempt after a transient failure: exponential back-off with full jitter
/// (delay drawn uniformly from [base/2, base * 2^(attempt-1)], capped), so retries of many trials do not arrive together.
/// Lives in the sweep's persisted state and timers, not in a blocking delay inside a grain call.
/// </summary>
public sealed record RetryBackoff(TimeSpan BaseDelay, TimeSpan MaxDelay, int MaxAttempts)
{
    public static readonly RetryBackoff Default = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), MaxAttempts: 3);

    /// <summary>Whether a trial that has failed transiently <paramref name="attemptsSoFar"/> times gets another attempt.</summary>
    public bool AllowsAnotherAttempt(int attemptsSoFar) => attemptsSoFar < MaxAttempts;

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1 (attempt >= 1 is the one that just failed).</summary>
    public TimeSpan DelayAfter(int attempt, Random random)
    {
        double ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1)));
        double floor = Math.Min(ceiling, BaseDelay.TotalMilliseconds / 2);
        return TimeSpan.FromMilliseconds(floor + random.NextDouble() * (ceiling - floor));
    }
}

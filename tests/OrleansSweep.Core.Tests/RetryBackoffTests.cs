using CsCheck;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Tests;

/// <summary>RetryBackoff: its bounds, cap and jitter for any base, cap and attempt, and its attempt count.</summary>
public class RetryBackoffTests
{
    private static readonly Gen<(RetryBackoff Backoff, int Attempt, int Seed)> Cases =
        from baseMs in Gen.Int[1, 3_600_000]
        from capMs in Gen.Int[1, 7_200_000]
        from attempt in Gen.Int[1, 80]
        from seed in Gen.Int
        select (new RetryBackoff(TimeSpan.FromMilliseconds(baseMs), TimeSpan.FromMilliseconds(capMs), 3), attempt, seed);

    [Fact]
    public void A_delay_lies_between_half_the_base_and_the_doubled_base_and_never_beyond_the_cap() => Cases.Sample(c =>
    {
        var (backoff, attempt, seed) = c;
        double ceiling = Math.Min(backoff.MaxDelay.TotalMilliseconds, backoff.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        double floor = Math.Min(ceiling, backoff.BaseDelay.TotalMilliseconds / 2);
        double delay = backoff.DelayAfter(attempt, new Random(seed)).TotalMilliseconds;
        Assert.InRange(delay, floor - 1e-6, ceiling + 1e-6);
        Assert.True(delay <= backoff.MaxDelay.TotalMilliseconds + 1e-6, $"{delay} ms beyond the cap {backoff.MaxDelay}");
        Assert.True(double.IsFinite(delay)); // 2^79 times the base is capped, not an overflow
    });

    [Fact]
    public void Delays_are_spread_over_their_range_so_retries_of_many_trials_do_not_arrive_together()
    {
        var backoff = RetryBackoff.Default; // 5 s base, 5 min cap
        var random = new Random(7);
        var third = Enumerable.Range(0, 2_000).Select(_ => backoff.DelayAfter(3, random).TotalSeconds).ToList();
        // Attempt 3: uniform over [2.5 s, 20 s]; 2,000 draws reach both ends and the middle.
        Assert.InRange(third.Min(), 2.5, 3.0);
        Assert.InRange(third.Max(), 19.5, 20.0);
        Assert.InRange(third.Average(), 10.5, 12.0);
        Assert.True(third.Distinct().Count() > 1_900);
        // Long past the cap: every delay at most 5 minutes, still jittered below it.
        var late = Enumerable.Range(0, 200).Select(_ => backoff.DelayAfter(40, random)).ToList();
        Assert.All(late, d => Assert.InRange(d, TimeSpan.FromSeconds(2.5), TimeSpan.FromMinutes(5)));
        Assert.True(late.Distinct().Count() > 190);
    }

    [Fact]
    public void The_ceiling_doubles_with_each_attempt_until_the_cap()
    {
        var backoff = new RetryBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 3);
        double Ceiling(int attempt) => Enumerable.Range(0, 500).Max(i => backoff.DelayAfter(attempt, new Random(i)).TotalSeconds);
        Assert.InRange(Ceiling(1), 0.95, 1.0);
        Assert.InRange(Ceiling(2), 1.9, 2.0);
        Assert.InRange(Ceiling(3), 3.8, 4.0);
        Assert.InRange(Ceiling(5), 9.5, 10.0); // 16 s capped at 10
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(9, false)]
    public void A_trial_gets_another_attempt_only_below_the_maximum(int attemptsSoFar, bool allowed) =>
        Assert.Equal(allowed, RetryBackoff.Default.AllowsAnotherAttempt(attemptsSoFar));
}

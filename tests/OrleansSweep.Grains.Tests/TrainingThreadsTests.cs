using OrleansSweep.Grains.Trials;

namespace OrleansSweep.Grains.Tests;

public sealed class TrainingThreadsTests
{
    [Fact]
    public async Task A_trial_after_another_reuses_its_thread_and_never_runs_on_the_thread_pool()
    {
        var threads = new TrainingThreads();
        var ids = new List<int>();
        for (int i = 0; i < 20; i++)
            ids.Add(await threads.Run(() =>
            {
                Assert.False(Thread.CurrentThread.IsThreadPoolThread);
                return Environment.CurrentManagedThreadId;
            }));
        Assert.Equal(1, threads.Started);
        Assert.Single(ids.Distinct());
    }

    [Fact]
    public async Task Trials_at_the_same_time_get_threads_of_their_own_and_a_failure_reaches_the_caller()
    {
        var threads = new TrainingThreads();
        using var release = new ManualResetEventSlim();
        var running = Enumerable.Range(0, 4).Select(_ => threads.Run(() => { release.Wait(); return Environment.CurrentManagedThreadId; })).ToList();
        release.Set();
        Assert.Equal(4, (await Task.WhenAll(running)).Distinct().Count()); // no trial waits behind another
        await Assert.ThrowsAsync<IOException>(() => threads.Run<int>(() => throw new IOException("disk")));
        Assert.Equal(4, threads.Started);
    }

    [Fact]
    public async Task An_idle_thread_ends_and_the_next_trial_gets_a_new_one()
    {
        var threads = new TrainingThreads(TimeSpan.FromMilliseconds(50));
        await threads.Run(() => 0);
        // Trials keep arriving well inside the idle lifetime, then one after a pause longer than it.
        await Task.Delay(500);
        await threads.Run(() => 0);
        Assert.Equal(2, threads.Started);
    }
}

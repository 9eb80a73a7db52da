using OrleansSweep.Grains.Sweeps;

namespace OrleansSweep.Grains.Tests;

public class CoalescingStateWriterTests
{
    /// <summary>Like a grain: one turn at a time, continuations back on the same exclusive scheduler.</summary>
    private static Task OneTurnAtATime(Func<Task> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.None, new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler).Unwrap();

    [Fact]
    public Task Changes_made_during_a_write_share_the_next_one_and_every_caller_waits_for_a_covering_write() => OneTurnAtATime(async () =>
    {
        int changes = 0, durableChanges = 0, writes = 0;
        var gate = new TaskCompletionSource();
        var writer = new CoalescingStateWriter(async () =>
        {
            int snapshot = changes;
            writes++;
            if (writes == 1) await gate.Task; // the first write is slow
            durableChanges = snapshot;
        });

        async Task ChangeAndPersist()
        {
            int mine = ++changes;
            await writer.WriteAsync();
            Assert.True(durableChanges >= mine, $"change {mine} acknowledged before it was durable ({durableChanges})");
        }

        var first = ChangeAndPersist();
        var others = Enumerable.Range(0, 10).Select(_ => ChangeAndPersist()).ToList();
        gate.SetResult();
        await Task.WhenAll(others.Append(first));

        Assert.Equal(11, durableChanges);
        Assert.Equal(2, writes); // one for the first change, one shared by the ten made while it ran
    });

    [Fact]
    public Task A_failed_write_fails_its_callers_and_the_next_change_writes_again() => OneTurnAtATime(async () =>
    {
        int writes = 0;
        var writer = new CoalescingStateWriter(() => ++writes == 1 ? Task.FromException(new IOException("disk full")) : Task.CompletedTask);
        await Assert.ThrowsAsync<IOException>(() => writer.WriteAsync());
        await writer.WriteAsync();
        Assert.Equal(2, writes);
    });

    [Fact]
    public Task After_a_failed_write_ensuring_durability_writes_again_and_otherwise_costs_nothing() => OneTurnAtATime(async () =>
    {
        int writes = 0;
        var writer = new CoalescingStateWriter(() => ++writes == 1 ? Task.FromException(new IOException("store unreachable")) : Task.CompletedTask);
        await Assert.ThrowsAsync<IOException>(() => writer.WriteAsync());
        Assert.True(writer.HasUndurableChanges);
        await writer.EnsureDurableAsync(); // a repeated report of the same result: it must not be acknowledged undurable
        Assert.Equal(2, writes);
        Assert.False(writer.HasUndurableChanges);
        await writer.EnsureDurableAsync();
        Assert.Equal(2, writes);
    });
}

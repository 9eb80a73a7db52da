using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Hosting;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

public sealed class SqliteGrainStorageTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new("orleans-sweep-sqlite");
    private readonly Serializer _serializer = StorageSerializer.Create();
    private static readonly GrainId Grain = GrainId.Create("sweep", "s1");

    public void Dispose() => _dir.Dispose();

    private SqliteGrainStorage Open() => new(_dir.Combine("state.db"), _serializer);

    private static SweepGrainState Sample() => new()
    {
        StoredSpec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("s1", "/data")),
        SpecFingerprint = "abc",
        State = SweepState.Running,
        Running = { "t2" },
        Cancelled = { ["t1"] = new TrialResult { TrialId = "t1", Status = TrialStatus.Cancelled, FinalTestAccuracy = 0.875 } },
    };

    [Fact]
    public async Task State_survives_reopening_the_file()
    {
        var written = new GrainState<SweepGrainState>(Sample());
        await Open().WriteStateAsync("sweep", Grain, written);

        var read = new GrainState<SweepGrainState>();
        await Open().ReadStateAsync("sweep", Grain, read);

        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal("abc", read.State!.SpecFingerprint);
        Assert.Equal(SweepState.Running, read.State.State);
        Assert.Equal(0.875, read.State.Cancelled["t1"].FinalTestAccuracy);
        Assert.Equal(["t2"], read.State.Running);
        Assert.Equal(SpecFingerprint.Compute(Sample().StoredSpec!), SpecFingerprint.Compute(read.State.StoredSpec!));
    }

    [Fact]
    public async Task NaN_and_infinite_losses_travel_and_persist_as_data()
    {
        // A trial whose loss became NaN is a diverged result; an interpolation far from both solutions reaches infinity.
        var diverged = new TrialResult { TrialId = "t3", Status = TrialStatus.Diverged, DivergedAtEpoch = 1, DivergenceLoss = double.NaN };
        var line = new TrialResult
        {
            TrialId = "interpolation-x", Status = TrialStatus.Completed,
            Interpolation = new InterpolationResult("x", "a", "b", [new InterpolationPoint(2, double.PositiveInfinity, 0.1, double.PositiveInfinity, 0.1)]),
        };
        Assert.True(double.IsNaN(_serializer.Deserialize<TrialResult>(_serializer.SerializeToArray(diverged))!.DivergenceLoss!.Value));

        var log = new SqliteTrialResultLog(_dir.Combine("state.db"), _serializer);
        await log.AppendAsync("s1", [diverged, line]);
        var read = (await log.ReadAsync("s1")).ToDictionary(r => r.Result.TrialId, r => r.Result);
        Assert.True(double.IsNaN(read["t3"].DivergenceLoss!.Value));
        Assert.Equal(double.PositiveInfinity, read[line.TrialId].Interpolation!.Points[0].TrainLoss);
    }

    [Fact]
    public async Task A_missing_record_reads_as_new_state()
    {
        var read = new GrainState<SweepGrainState>();
        await Open().ReadStateAsync("sweep", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Equal(SweepState.NotStarted, read.State!.State);
    }

    [Fact]
    public async Task A_stale_writer_is_refused()
    {
        var storage = Open();
        var first = new GrainState<SweepGrainState>(Sample());
        await storage.WriteStateAsync("sweep", Grain, first);
        var stale = new GrainState<SweepGrainState>(Sample()) { ETag = first.ETag };
        await storage.WriteStateAsync("sweep", Grain, first); // first moves on

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("sweep", Grain, stale));
        var duplicateInsert = new GrainState<SweepGrainState>(Sample());
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("sweep", Grain, duplicateInsert));
    }

    [Fact]
    public async Task Clear_removes_the_record()
    {
        var storage = Open();
        var state = new GrainState<SweepGrainState>(Sample());
        await storage.WriteStateAsync("sweep", Grain, state);
        await storage.ClearStateAsync("sweep", Grain, state);
        var read = new GrainState<SweepGrainState>();
        await storage.ReadStateAsync("sweep", Grain, read);
        Assert.False(read.RecordExists);
    }
}

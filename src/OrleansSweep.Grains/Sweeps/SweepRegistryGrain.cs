using OrleansSweep.Abstractions;

namespace OrleansSweep.Grains.Sweeps;

[GenerateSerializer]
public sealed class SweepRegistryState
{
    [Id(0)] public SortedSet<string> Sweeps { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Remembers which sweeps exist (persisted like the sweeps themselves).</summary>
public sealed class SweepRegistryGrain(
    [PersistentState("registry", SweepOptions.StorageName)] IPersistentState<SweepRegistryState> state) : Grain, ISweepRegistryGrain
{
    public async Task Register(string sweepName)
    {
        if (state.State.Sweeps.Add(sweepName)) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> List() => Task.FromResult<IReadOnlyList<string>>(state.State.Sweeps.ToList());
}

namespace OrleansSweep.Abstractions;

/// <summary>The names of every sweep started on this cluster (key 0), so they can be listed.</summary>
public interface ISweepRegistryGrain : IGrainWithIntegerKey
{
    Task Register(string sweepName);

    Task<IReadOnlyList<string>> List();
}

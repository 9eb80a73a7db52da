namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The tests that run real clusters of silo processes, or a whole embedded sweep under a browser, share this collection:
/// xunit runs one collection's tests one at a time, so two clusters never compete for a 2-core machine's CPU under
/// their fixed deadlines (joins, leases, kills); the lighter tests still run beside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MultiProcessCollection
{
    public const string Name = "multi-process clusters";
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Specs;

using var host = Host.CreateApplicationBuilder().UseOrleansClient(client => client
        .UseRedisClustering("127.0.0.1:6379")
        .Services.AddSerializer(s => s.AddOrleansSweepSerializers()))
    .Build();
await host.StartAsync();
var sweeps = new SweepClient(host.Services.GetRequiredService<IClusterClient>());
await sweeps.StartAsync(SweepSpecLoader.LoadFile("configs/quickstart.json"));   // idempotent for the same spec
await foreach (var snapshot in sweeps.WatchAsync("quickstart", TimeSpan.FromSeconds(2)))
    Console.WriteLine($"{snapshot.Finished}/{snapshot.TotalTrials} trials");
// also: GetSnapshotAsync, PauseAsync, ResumeAsync, CancelAsync, ListAsync

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansSweep.Client;
using OrleansSweep.Core.Specs;

using var host = Host.CreateApplicationBuilder()
    .UseOrleansClient(client => client.AddOrleansSweepClient(o => o.Redis = "127.0.0.1:6379"))  // also ClusterId, ServiceId, TlsCertificate
    .Build();
await host.StartAsync();
var sweeps = host.Services.GetRequiredService<SweepClient>();
await sweeps.StartAsync(SweepSpecLoader.LoadFile("configs/quickstart.json"));   // idempotent for the same spec
await foreach (var snapshot in sweeps.WatchAsync("quickstart", TimeSpan.FromSeconds(2)))
    Console.WriteLine($"{snapshot.Finished}/{snapshot.TotalTrials} trials");
// also: GetSnapshotAsync, PauseAsync, ResumeAsync, CancelAsync, ListAsync

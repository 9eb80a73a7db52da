using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSweep.Grains.Hosting;

// Configuration: appsettings.json, then environment (OrleansSweep__Redis=...), then command line
// (--OrleansSweep:SiloPort=11112). See hosting/README.md.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning);
var options = ClusterSiloOptions.From(builder.Configuration);
builder.AddOrleansSweepClusterSilo(options);
using var host = builder.Build();
await host.RunAsync();

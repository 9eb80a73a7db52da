using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSweep.Grains.Hosting;

// Configuration: appsettings.json (beside the program, then in the working directory), then environment
// (OrleansSweep__Redis=...), then command line (--OrleansSweep:SiloPort=11112). See hosting/README.md.
var configuration = new ConfigurationBuilder()
    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
    .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
    .AddEnvironmentVariables()
    .AddCommandLine(args)
    .Build();
var options = ClusterSiloOptions.From(configuration);
using var host = ClusterSiloHost.Build(options, logging => logging
    .AddConfiguration(configuration.GetSection("Logging"))
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddFilter("Orleans", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning));
// SIGTERM (systemd, Kubernetes) and Ctrl-C stop the host gracefully: running trials checkpoint and are handed back.
await host.RunAsync();

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSweep.Abstractions;
using OrleansSweep.Hosting;

// Configuration: appsettings.json (beside the program, then in the working directory), then environment
// (OrleansSweep__Redis=...), then command line (--OrleansSweep:SiloPort=11112). See hosting/README.md.
IHost host;
try
{
    var configuration = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .AddCommandLine(args)
        .Build();
    await SiloPreflight.CheckAsync(configuration);
    host = ClusterSiloHost.Build(configuration, logging => logging
        .AddConfiguration(configuration.GetSection("Logging"))
        .AddSimpleConsole(o => o.SingleLine = true)
        .AddFilter("Orleans", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning));
}
// A setting the silo cannot use (a value that does not bind, an address that is not one, a port in use, a certificate
// that does not load, a malformed appsettings.json): one line naming it, exit 2. systemd and kubectl show the last lines
// of a failed start; a stack trace there would bury it.
// Redis not started yet or at another address is exit 69 (EX_UNAVAILABLE): a condition to wait out, which systemd's
// Restart= retries.
catch (Exception e) when (e is OrleansSweep.Core.IUserError user)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return user.ExitCode;
}
catch (Exception e) when (e is InvalidDataException or FormatException) // appsettings.json that is not JSON
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
using (host)
{
    // SIGTERM (systemd, Kubernetes) and Ctrl-C stop the host gracefully: running trials checkpoint and are handed back.
    await host.RunAsync();
}
return 0;

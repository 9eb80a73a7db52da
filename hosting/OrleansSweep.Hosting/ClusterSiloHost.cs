using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Dashboard;

namespace OrleansSweep.Hosting;

/// <summary>
/// The process around one cluster silo (the silo host and `orleans-sweep silo`): the silo, and unless
/// <see cref="ClusterSiloOptions.DashboardPort"/> is 0, the Orleans Dashboard's web server on
/// <see cref="ClusterSiloOptions.DashboardAddress"/> (loopback by default), which also serves the live sweep pages
/// (<see cref="SweepPages"/>, <c>/sweeps/&lt;name&gt;</c>). Stopping the host stops the silo gracefully:
/// running trials checkpoint the step they are at and are handed back to the sweep.
/// </summary>
public static class ClusterSiloHost
{
    /// <param name="configuration">The silo's settings (section "OrleansSweep"): the only configuration the host reads.</param>
    public static IHost Build(IConfiguration configuration, Action<ILoggingBuilder> configureLogging)
    {
        var options = ClusterSiloOptions.From(configuration);
        if (options.DashboardPort == 0)
        {
            var plain = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            plain.Configuration.AddConfiguration(configuration);
            configureLogging(plain.Logging);
            plain.AddOrleansSweepClusterSilo();
            return plain.Build();
        }
        // Only what the dashboard needs: Kestrel on one endpoint and routing; no ASP.NET defaults (URLs from the
        // environment, appsettings of the working directory) that could open other ports.
        var web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        web.Configuration.AddConfiguration(configuration);
        configureLogging(web.Logging);
        web.AddOrleansSweepClusterSilo(); // validates the options, the dashboard's included
        web.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(options.DashboardAddress), options.DashboardPort));
        web.Services.AddRouting();
        web.Services.AddOrleansSweepPages();
        var app = web.Build();
        app.UseRouting();
        app.MapOrleansSweepPages(); // the live sweep pages, /sweeps/<name>, beside the dashboard
        app.MapOrleansDashboard();
        return app;
    }
}

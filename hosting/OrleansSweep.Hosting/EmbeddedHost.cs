using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace OrleansSweep.Hosting;

/// <summary>
/// The embedded `run`'s process host: a plain host, or, with a page port, one that also serves the live sweep page
/// (<see cref="SweepPages"/>) on loopback at that port. Only Kestrel on that one endpoint and routing: no ASP.NET
/// defaults (URLs from the environment, appsettings of the working directory) that could open other ports.
/// </summary>
public static class EmbeddedHost
{
    /// <param name="pagePort">Loopback port of the live page; 0: none.</param>
    /// <param name="configure">Everything else: configuration, logging, the silo and its client.</param>
    public static IHost Build(int pagePort, Action<IHostApplicationBuilder> configure)
    {
        if (pagePort == 0)
        {
            var plain = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            configure(plain);
            return plain.Build();
        }
        var web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        configure(web);
        web.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, pagePort));
        web.Services.AddRouting();
        web.Services.AddSingleton<SweepPages>(); // the client calls are the embedded client's
        var app = web.Build();
        app.UseRouting();
        app.MapOrleansSweepPages();
        return app;
    }

    /// <summary>The live page of <paramref name="sweep"/> on a host built with <paramref name="pagePort"/>.</summary>
    public static string PageUrl(int pagePort, string sweep) => $"http://127.0.0.1:{pagePort}/sweeps/{Uri.EscapeDataString(sweep)}";
}

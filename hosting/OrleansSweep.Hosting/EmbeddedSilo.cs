using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using OrleansSweep.Grains;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Grains.Sweeps;

namespace OrleansSweep.Hosting;

/// <summary>The laptop mode's silo: localhost clustering on free loopback ports, sweep state in the study directory.</summary>
public static class EmbeddedSilo
{
    /// <summary>The SQLite file in a study directory that holds its sweep's state (a killed run resumes from it).</summary>
    public const string StateFileName = Study.StudyLayout.StateFileName;

    /// <summary>
    /// One silo in this process, training on the devices its configuration names (section "OrleansSweep", see
    /// <see cref="DeviceOptions"/>; `run`'s flags become those keys), with its sweep state in
    /// <c>&lt;studyDirectory&gt;/state.db</c> and checkpoints under the study directory.
    /// </summary>
    public static ISiloBuilder UseOrleansSweepEmbedded(this ISiloBuilder silo, string studyDirectory)
    {
        var devices = DeviceOptions.From(silo.Configuration);
        silo.UseLocalhostClustering(siloPort: LoopbackPorts.Free(), gatewayPort: LoopbackPorts.Free());
        // Durable: a killed or interrupted run resumes from here (see `orleans-sweep resume`).
        silo.AddSqliteGrainStorage(SweepOptions.StorageName, Path.Combine(studyDirectory, StateFileName));
        return silo.AddOrleansSweep(sweeps: s => s.DefaultMaxConcurrentTrials = devices.TotalSlots, artifacts: a => a.Root = studyDirectory);
    }

    /// <summary>
    /// Grain storage in a SQLite file (Orleans ships no file-system storage; see <see cref="SqliteGrainStorage"/>), and the
    /// sweeps' result log in the same file (<see cref="SqliteTrialResultLog"/>).
    /// </summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder silo, string name, string databasePath)
    {
        silo.Services.AddGrainStorage(name, (services, _) => new SqliteGrainStorage(databasePath, services.GetRequiredService<Serializer>()));
        silo.Services.AddSingleton<ITrialResultLog>(services => new SqliteTrialResultLog(databasePath, services.GetRequiredService<Serializer>()));
        return silo;
    }
}

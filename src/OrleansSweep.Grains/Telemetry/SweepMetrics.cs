using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Grains.Devices;

namespace OrleansSweep.Grains.Telemetry;

/// <summary>
/// The sweep engine's own meter, "OrleansSweep" (System.Diagnostics.Metrics; exported by OpenTelemetry beside Orleans'
/// meters, see the hosting). Each silo reports what it sees: the sweeps whose grains it hosts, the trials it trains,
/// its device slots. In Prometheus' names:
/// <list type="bullet">
/// <item><c>orleans_sweep_trials{sweep, state}</c>: trials pending, running and finished (gauge);</item>
/// <item><c>orleans_sweep_results_total{sweep, status}</c>: results recorded, each once (completed, diverged, failed,
/// cancelled); results per second is its rate;</item>
/// <item><c>orleans_sweep_retries_total{sweep, reason, outcome}</c>: transient failures (reason lease_expired or
/// failure) retried or given up;</item>
/// <item><c>orleans_sweep_lease_expiries_total{sweep}</c>: running trials presumed lost;</item>
/// <item><c>orleans_sweep_epoch_duration_seconds{device}</c>: seconds per training epoch (histogram);</item>
/// <item><c>orleans_sweep_device_slots{device, state}</c>: this silo's slots in use and free (gauge).</item>
/// </list>
/// </summary>
public sealed class SweepMetrics
{
    public const string MeterName = "OrleansSweep";

    private readonly Counter<long> _results;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _leaseExpiries;
    private readonly Histogram<double> _epochSeconds;
    private readonly ConcurrentDictionary<string, TrialCounts> _sweeps = new();

    private sealed record TrialCounts(int Pending, int Running, int Finished);

    public SweepMetrics(IMeterFactory meters, DeviceSlotPool slots)
    {
        var meter = meters.Create(MeterName);
        _results = meter.CreateCounter<long>("orleans_sweep.results", "{result}", "Trial results recorded (each exactly once), by sweep and status");
        _retries = meter.CreateCounter<long>("orleans_sweep.retries", "{retry}", "Transient trial failures, by sweep, reason and whether they were retried");
        _leaseExpiries = meter.CreateCounter<long>("orleans_sweep.lease_expiries", "{trial}", "Running trials whose lease expired (their silo presumed lost)");
        _epochSeconds = meter.CreateHistogram<double>("orleans_sweep.epoch.duration", "s", "Seconds per training epoch on this silo, by device",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600] });
        meter.CreateObservableGauge("orleans_sweep.trials", ObserveTrials, "{trial}", "Trials of the sweeps this silo hosts, by state");
        meter.CreateObservableGauge("orleans_sweep.device_slots", () => ObserveSlots(slots), "{slot}", "This silo's device slots, in use and free");
    }

    /// <summary>A sweep hosted here changed: its trial counts as the gauge will report them.</summary>
    public void Trials(string sweep, int pending, int running, int finished) => _sweeps[sweep] = new TrialCounts(pending, running, finished);

    /// <summary>The sweep's grain left this silo: another reports it now.</summary>
    public void Forget(string sweep) => _sweeps.TryRemove(sweep, out _);

    public void Result(string sweep, TrialStatus status) =>
        _results.Add(1, new("sweep", sweep), new("status", status.ToString().ToLowerInvariant()));

    public void Retry(string sweep, RetryNotice notice) =>
        _retries.Add(1, new("sweep", sweep),
            new("reason", notice.Reason.StartsWith("lease expired", StringComparison.Ordinal) ? "lease_expired" : "failure"),
            new("outcome", notice.Delay is null ? "gave_up" : "retried"));

    public void LeasesExpired(string sweep, int count)
    {
        if (count > 0) _leaseExpiries.Add(count, new KeyValuePair<string, object?>("sweep", sweep));
    }

    public void Epoch(string device, double seconds) => _epochSeconds.Record(seconds, new KeyValuePair<string, object?>("device", device));

    private IEnumerable<Measurement<int>> ObserveTrials() => _sweeps.SelectMany(s => new[]
    {
        new Measurement<int>(s.Value.Pending, new("sweep", s.Key), new("state", "pending")),
        new Measurement<int>(s.Value.Running, new("sweep", s.Key), new("state", "running")),
        new Measurement<int>(s.Value.Finished, new("sweep", s.Key), new("state", "finished")),
    });

    private static IEnumerable<Measurement<int>> ObserveSlots(DeviceSlotPool slots) => slots.FreeByDevice().SelectMany(d => new[]
    {
        new Measurement<int>(d.Total - d.Free, new("device", d.Device), new("state", "used")),
        new Measurement<int>(d.Free, new("device", d.Device), new("state", "free")),
    });
}

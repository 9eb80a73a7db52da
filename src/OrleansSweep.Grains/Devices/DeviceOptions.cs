using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Devices;

namespace OrleansSweep.Grains.Devices;

/// <summary>
/// What a silo offers for training, bound from the configuration section <see cref="Section"/> ("OrleansSweep:Devices:0",
/// "OrleansSweep:SlotsPerDevice", ...) by every host alike: the silo host (appsettings, environment), `orleans-sweep silo`
/// and the embedded `run`, whose flags become these keys. A silo with no devices only coordinates.
/// </summary>
public sealed class DeviceOptions
{
    public const string Section = "OrleansSweep";
    public const int MaxSlotsPerDevice = 1024;
    public const int MaxThreadsPerTrial = 1024;
    /// <summary>The device a silo trains on when none is configured (a const: the CLI's help names it without loading this assembly).</summary>
    public const string DefaultDevice = "cpu";
    /// <summary>
    /// What one CPU trial is budgeted in memory when a CPU device's slots are chosen automatically: the quickstart trial
    /// (ResNet-8, 10,000 Fashion-MNIST images, m = 16) peaks at about 1.0 GiB resident (benchmarks/README.md); half as much
    /// again covers larger batches and models.
    /// </summary>
    public const long CpuTrialMemoryBudget = 3L << 29; // 1.5 GiB

    /// <summary>
    /// Device names: "cpu", "cuda:0", "cuda:1", "auto". Bound from configuration, configured devices replace the default
    /// "cpu" (<see cref="ApplyDefaults"/>); they are not added to it.
    /// </summary>
    public List<string> Devices { get; set; } = [];

    /// <summary>
    /// A silo that hosts sweeps but never trials, whatever <see cref="Devices"/> says (a shipped appsettings.json lists
    /// "cpu"; the environment overriding it cannot empty a list): the way to say "no devices" anywhere.
    /// </summary>
    public bool CoordinatorOnly { get; set; }

    /// <summary>
    /// A configured cuda:N that this build or machine cannot use is refused at a cluster silo's start unless this is true;
    /// then its trials train on the CPU and each result says so. A GPU node quietly training on its CPU is a slow node
    /// nobody asked for.
    /// </summary>
    public bool AllowCpuFallback { get; set; }

    /// <summary>
    /// Capacity of one device in slots: how many trials share it at once. Null (the default): automatic packing, a CPU
    /// takes as many trials as its cores allow at <see cref="EffectiveThreadsPerTrial"/> threads each, at most as many
    /// as its memory holds at <see cref="CpuTrialMemoryBudget"/> each (on CPU, two 1-thread trials side by side outrun
    /// one 2-thread trial at every batch size measured); a GPU as many as its memory holds at the footprint measured on
    /// its first trial (<see cref="GpuPacking"/>).
    /// </summary>
    public int? SlotsPerDevice { get; set; }

    /// <summary>
    /// Packing: a trial with batch size m takes ceil(m / BatchPerSlot) slots of its device (at least 1, at most all),
    /// so small-batch trials pack several to a device while large-batch ones get it to themselves. Null: one slot per
    /// trial whatever its batch.
    /// </summary>
    public int? BatchPerSlot { get; set; }

    /// <summary>
    /// Intra-op threads of a trial whose spec does not fix them (<c>training.threads</c>, which always wins). Null: 1 when
    /// slots are automatic on a CPU, else the machine's cores divided by the silo's slots (at least 1), as before.
    /// </summary>
    public int? ThreadsPerTrial { get; set; }

    /// <summary>The devices this silo trains on: none for a coordinator.</summary>
    public IReadOnlyList<string> TrainingDevices => CoordinatorOnly ? [] : Devices;

    public int TotalSlots => TrainingDevices.Sum(SlotsOn);

    /// <summary>
    /// Slots of <paramref name="device"/>: <see cref="SlotsPerDevice"/>, or the automatic packing. An automatic GPU's are
    /// the most it may take (<see cref="GpuPacking.MaxTrialsPerGpu"/>); how many it does take is measured on its first
    /// trial (<see cref="DeviceSlotPool"/>).
    /// </summary>
    public int SlotsOn(string device)
    {
        if (SlotsPerDevice is int configured) return configured;
        if (!DeviceName.TryParse(device, out var name)) return 1;
        if (name.IsCuda) return GpuPacking.MaxTrialsPerGpu;
        int byCores = Math.Max(1, Environment.ProcessorCount / (ThreadsPerTrial ?? 1));
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes; // physical memory, or the container's limit
        int byMemory = (int)Math.Clamp(memory * 3 / 4 / CpuTrialMemoryBudget, 1, MaxSlotsPerDevice);
        return Math.Min(byCores, byMemory);
    }

    /// <summary>A GPU whose slots are automatic: packed by the memory its first trial takes.</summary>
    public bool IsAutomaticGpu(string device) => SlotsPerDevice is null && DeviceName.TryParse(device, out var name) && name.IsCuda;

    private bool AutomaticCpuSlots => SlotsPerDevice is null && TrainingDevices.Any(d => DeviceName.TryParse(d, out var n) && !n.IsCuda);

    // An automatic GPU counts as the one trial it starts with: its published ceiling is not a share of the cores.
    public int EffectiveThreadsPerTrial => ThreadsPerTrial ?? (AutomaticCpuSlots ? 1
        : Math.Max(1, Environment.ProcessorCount / Math.Max(1, TrainingDevices.Sum(d => IsAutomaticGpu(d) ? 1 : SlotsOn(d)))));

    /// <summary>
    /// Slots a trial of batch size <paramref name="batchSize"/> computing with <paramref name="threads"/> intra-op threads
    /// (null: the silo's) occupies on one device: its packing share (<see cref="BatchPerSlot"/>), and at least as many
    /// slots as its threads fill, so a trial whose spec asks for more threads than a slot has does not oversubscribe the
    /// cores. At most a whole device.
    /// </summary>
    public int SlotsFor(int batchSize, int? threads = null)
    {
        int byBatch = BatchPerSlot is int perSlot && perSlot > 0 ? (batchSize + perSlot - 1) / perSlot : 1;
        int perSlotThreads = EffectiveThreadsPerTrial;
        int byThreads = threads is int t ? (t + perSlotThreads - 1) / perSlotThreads : 1;
        int largest = SlotsPerDevice ?? (TrainingDevices.Count == 0 ? 1 : TrainingDevices.Max(SlotsOn));
        return Math.Clamp(Math.Max(byBatch, byThreads), 1, Math.Max(1, largest));
    }

    /// <summary>"OrleansSweep:SlotsPerDevice": how appsettings, environment and the silo host's command line name a setting.</summary>
    public static string ConfigurationKey(string property) => $"{Section}:{property}";

    /// <summary>
    /// The device options as configured: the one binding every host uses (<see cref="Microsoft.Extensions.DependencyInjection.OptionsBuilderConfigurationExtensions.BindConfiguration{TOptions}"/>
    /// into a fresh instance, then <see cref="ApplyDefaults"/>), for the few decisions a host makes before its services exist.
    /// </summary>
    public static DeviceOptions From(IConfiguration configuration)
    {
        var options = new DeviceOptions();
        var section = configuration.GetSection(Section);
        try { section.Bind(options); }
        catch (InvalidOperationException e) { throw new ClusterSettingException(e.Message); } // "Failed to convert configuration value 'x' at 'OrleansSweep:SlotsPerDevice'"
        options.ApplyDefaults(configuration);
        return options;
    }

    /// <summary>
    /// The binder appends configured list items to a list's initial items, so <see cref="Devices"/> starts empty and gets
    /// its default only when the configuration does not name it. `"Devices": []` in a JSON file names the key (it reaches
    /// the configuration as a key without a value) and so means "no devices", as <see cref="CoordinatorOnly"/> does.
    /// </summary>
    public void ApplyDefaults(IConfiguration configuration)
    {
        bool named = configuration.GetSection(Section).GetChildren().Any(c => string.Equals(c.Key, nameof(Devices), StringComparison.OrdinalIgnoreCase));
        if (!CoordinatorOnly && !named && Devices.Count == 0) Devices = [DefaultDevice];
    }

    /// <summary>
    /// The first setting that is wrong, named as <paramref name="settingName"/> spells it for the caller (the CLI:
    /// "--slots"; by default the configuration key), or null when all are usable.
    /// </summary>
    public string? Problem(Func<string, string>? settingName = null)
    {
        settingName ??= ConfigurationKey;
        foreach (string device in TrainingDevices)
            if (!DeviceName.TryParse(device, out _))
                return $"{settingName(nameof(Devices))}: '{device}' is not a device (expected {DeviceName.Expected}).";
        if (SlotsPerDevice < 1)
            return $"{settingName(nameof(SlotsPerDevice))}: {SlotsPerDevice} (expected >= 1).";
        if (SlotsPerDevice > MaxSlotsPerDevice) // slot arithmetic stays far from overflow
            return $"{settingName(nameof(SlotsPerDevice))}: {SlotsPerDevice} (expected at most {MaxSlotsPerDevice}).";
        if (ThreadsPerTrial is < 1)
            return $"{settingName(nameof(ThreadsPerTrial))}: {ThreadsPerTrial} (expected >= 1).";
        if (ThreadsPerTrial > MaxThreadsPerTrial) // OpenMP allocates per thread up front: 2^31 of them is an abort, not a slow run
            return $"{settingName(nameof(ThreadsPerTrial))}: {ThreadsPerTrial} (expected at most {MaxThreadsPerTrial}).";
        if (BatchPerSlot is < 1)
            return $"{settingName(nameof(BatchPerSlot))}: {BatchPerSlot} (expected >= 1).";
        return null;
    }

    /// <summary>Throws <see cref="ClusterSettingException"/> naming the first setting that is wrong.</summary>
    public DeviceOptions Validated(Func<string, string>? settingName = null) =>
        Problem(settingName) is { } problem ? throw new ClusterSettingException(problem) : this;
}

/// <summary>Checks the bound device options when the host starts (<c>ValidateOnStart</c>): a wrong one stops the start.</summary>
public sealed class DeviceOptionsValidator : IValidateOptions<DeviceOptions>
{
    public ValidateOptionsResult Validate(string? name, DeviceOptions options) =>
        options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}

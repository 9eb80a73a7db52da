using System.Globalization;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace OrleansSweep.Grains.Placement;

/// <summary>Silo metadata a silo publishes about its training capacity.</summary>
public static class DeviceSiloMetadata
{
    /// <summary>How many trials the silo can train at once (devices x slots per device); absent or 0: coordinator only.</summary>
    public const string DeviceSlots = "orleans-sweep.device-slots";
}

/// <summary>Marks a grain class to activate only on silos that own device slots.</summary>
public sealed class DeviceSiloPlacementFilterStrategy() : PlacementFilterStrategy(order: 0);

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DeviceSiloPlacementFilterAttribute() : PlacementFilterAttribute(new DeviceSiloPlacementFilterStrategy());

/// <summary>
/// Keeps the candidate silos whose published metadata says they have device slots; the grain's placement strategy
/// then chooses among them. No candidate means no silo can train: placement fails with Orleans' own error.
/// </summary>
public sealed class DeviceSiloPlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos) =>
        silos.Where(silo => metadata.GetSiloMetadata(silo).Metadata.TryGetValue(DeviceSiloMetadata.DeviceSlots, out string? slots)
                            && int.TryParse(slots, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0);
}

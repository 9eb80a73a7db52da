using System.Globalization;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace OrleansSweep.Grains.Placement;

/// <summary>The device slots of the cluster's active silos, from their published metadata: silos that join add theirs.</summary>
public sealed class ClusterCapacity(IClusterMembershipService membership, ISiloMetadataCache metadata)
{
    public int DeviceSlots =>
        membership.CurrentSnapshot.Members.Values
            .Where(member => member.Status == SiloStatus.Active)
            .Sum(member => metadata.GetSiloMetadata(member.SiloAddress).Metadata.TryGetValue(DeviceSiloMetadata.DeviceSlots, out string? slots)
                           && int.TryParse(slots, NumberStyles.None, CultureInfo.InvariantCulture, out int count) ? count : 0);
}

using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Tests;

public sealed class PathContainmentTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"containment-{Guid.NewGuid():N}");

    public PathContainmentTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "datasets", "fashion"));
        Directory.CreateDirectory(Path.Combine(_root, "secret"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string At(params string[] parts) => Path.Combine([_root, .. parts]);

    [Fact]
    public void Paths_inside_a_root_pass_and_dot_dot_cannot_leave_it()
    {
        string[] roots = [At("datasets")];
        Assert.True(PathContainment.IsInside(At("datasets", "fashion"), roots));
        Assert.True(PathContainment.IsInside(At("datasets"), roots));
        Assert.True(PathContainment.IsInside(At("datasets", "not-yet-there", "x"), roots));
        Assert.False(PathContainment.IsInside(At("datasets", "..", "secret"), roots));
        Assert.False(PathContainment.IsInside(At("datasets-evil"), roots)); // a prefix of the name is not inside
        Assert.False(PathContainment.IsInside("/etc", roots));
    }

    [Fact]
    public void A_symbolic_link_inside_a_root_cannot_lead_out_of_it()
    {
        Directory.CreateSymbolicLink(At("datasets", "link"), At("secret"));
        Assert.False(PathContainment.IsInside(At("datasets", "link"), [At("datasets")]));
        Assert.False(PathContainment.IsInside(At("datasets", "link", "deeper"), [At("datasets")]));
        // A link that stays inside is fine.
        Directory.CreateSymbolicLink(At("datasets", "alias"), At("datasets", "fashion"));
        Assert.True(PathContainment.IsInside(At("datasets", "alias"), [At("datasets")]));
    }

    [Fact]
    public void The_dataset_violation_names_the_field_the_path_and_the_roots()
    {
        var dataset = new DatasetSpec { Name = "mnist", Path = "/etc" };
        string? violation = PathContainment.DatasetViolation(dataset, [At("datasets")]);
        Assert.Equal($"dataset.path: '/etc' is outside the directories this cluster reads datasets from ({At("datasets")}); " +
                     "put the data under one of them (silo setting DataRoots).", violation);
        Assert.Null(PathContainment.DatasetViolation(dataset, null)); // no roots configured (embedded): the user's own machine
        Assert.Null(PathContainment.DatasetViolation(dataset with { Path = null }, [At("datasets")])); // the system location
    }
}

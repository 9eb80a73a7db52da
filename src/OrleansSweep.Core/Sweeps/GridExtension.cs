using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Sweeps;

/// <summary>
/// Whether a spec extends a stored one: the same in everything but its grid, whose axes keep every stored value and may
/// add some. Then the stored cells keep their trial ids (ids depend on the cell only), so their results stay valid
/// and only the new cells run.
/// </summary>
public static class GridExtension
{
    /// <summary>What keeps <paramref name="candidate"/> from extending <paramref name="stored"/>, in words; empty when it does.</summary>
    public static IReadOnlyList<string> Differences(SweepSpec stored, SweepSpec candidate)
    {
        var differences = new List<string>();
        var before = Canonical(stored);
        var after = Canonical(candidate);
        foreach (string field in before.Select(p => p.Key).Union(after.Select(p => p.Key)).Where(f => f != "grid"))
            if (!JsonNode.DeepEquals(before[field], after[field]))
                differences.Add($"{field} differs");
        Axis("grid.batchSizes", stored.Grid.BatchSizes, candidate.Grid.BatchSizes, differences);
        Axis("grid.baseLearningRates", stored.Grid.BaseLearningRates, candidate.Grid.BaseLearningRates, differences);
        Axis("grid.bnModes", stored.Grid.BnModes.Select(m => BnMode.Parse(m).ToString()), candidate.Grid.BnModes.Select(m => BnMode.Parse(m).ToString()), differences);
        Axis("grid.seeds", stored.Grid.Seeds, candidate.Grid.Seeds, differences);
        return differences;
    }

    /// <summary>Cells <paramref name="grown"/> adds to <paramref name="stored"/> (for "extending sweep X: N new cells").</summary>
    public static int AddedCells(SweepSpec stored, SweepSpec grown) => new Trials.GridLayout(grown).Count - new Trials.GridLayout(stored).Count;

    /// <summary>Whether <paramref name="candidate"/> is <paramref name="stored"/> with values added to grid axes (and not the same spec).</summary>
    public static bool Extends(SweepSpec stored, SweepSpec candidate) =>
        Differences(stored, candidate).Count == 0 && SpecFingerprint.Compute(stored) != SpecFingerprint.Compute(candidate);

    private static void Axis<T>(string name, IEnumerable<T> stored, IEnumerable<T> candidate, List<string> differences)
    {
        var missing = stored.Except(candidate).ToList();
        if (missing.Count > 0) differences.Add($"{name} drops {string.Join(", ", missing.Select(v => v is double d ? LearningRateFormat.Format(d) : v!.ToString()))}");
    }

    private static JsonObject Canonical(SweepSpec spec) => JsonNode.Parse(SweepSpecLoader.ToJson(spec))!.AsObject();
}

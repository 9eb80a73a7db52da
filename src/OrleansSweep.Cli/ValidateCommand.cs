using System.Text.Json;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Data;
using Spectre.Console;

namespace OrleansSweep.Cli;

/// <summary>
/// Checks a spec without running it: the JSON and every field, and that the dataset's files are where the spec says.
/// Prints what would run (or, with --json, a document scripts can read); exit 0 when valid, 2 with every problem otherwise.
/// </summary>
/// <param name="errors">Where the problems go (standard error); null: <paramref name="console"/>.</param>
public sealed class ValidateCommand(IAnsiConsole console, IAnsiConsole? errors = null)
{
    /// <summary>Readable quotes in messages ("'dataset'", not "\u0027dataset\u0027"): the output is for scripts, not HTML.</summary>
    private static readonly JsonSerializerOptions ScriptJson = new(SweepSpecLoader.JsonOptions)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public int Execute(string specPath, bool json)
    {
        var problems = new List<string>();
        SweepSpec? spec = null;
        try
        {
            spec = SweepSpecLoader.LoadFile(specPath);
            DatasetCatalog.Preflight(spec);
        }
        catch (SpecException e) { problems.AddRange(e.Errors); }
        catch (DatasetException e) { problems.Add(e.Message); }

        var trials = spec is null ? [] : GridExpander.Expand(spec);
        if (json)
        {
            console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(new
            {
                spec = specPath, valid = problems.Count == 0, problems = problems.Select(ErrorText.Elide), name = spec?.Name, trials = trials.Count,
                trialIds = trials.Select(t => t.TrialId), interpolations = spec?.Analysis?.Interpolations.Count ?? 0,
            }, ScriptJson));
            return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.UserError;
        }
        if (problems.Count > 0)
        {
            var to = errors ?? console;
            to.MarkupLineInterpolated($"[red]error:[/] {ErrorText.Elide($"{specPath}: {(problems.Count == 1 ? problems[0] : $"{problems.Count} problems:")}")}");
            if (problems.Count > 1) foreach (string problem in problems) to.MarkupLineInterpolated($"  - {ErrorText.Elide(problem)}");
            return ExitCodes.UserError;
        }
        var s = spec!;
        console.MarkupLineInterpolated($"{specPath}: valid. Sweep [bold]{s.Name}[/]: {trials.Count} trials = {s.Grid.BatchSizes.Count} batch sizes x {s.Grid.BaseLearningRates.Count} base LRs x {s.Grid.BnModes.Count} BN modes x {s.Grid.Seeds.Count} seeds ({s.Model.Architecture} on {s.Dataset.Name}, {s.Training.Epochs} epochs each).");
        if (s.Analysis is { } a)
        {
            var parts = new List<string>();
            if (a.Sharpness is { } sh) parts.Add($"sharpness ({string.Join(", ", sh.Spaces)}; eps {string.Join(", ", sh.Epsilons)})");
            if (a.Hessian is not null) parts.Add("top Hessian eigenvalue");
            if (a.Interpolations.Count > 0) parts.Add($"{a.Interpolations.Count} interpolation(s) after the grid");
            console.MarkupLineInterpolated($"Analysis on {a.EvaluationSubset} training images: {string.Join("; ", parts)}.");
        }
        return ExitCodes.Ok;
    }
}

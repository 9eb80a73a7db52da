using System.Text.Json;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using Spectre.Console;
using OrleansSweep.Study;

namespace OrleansSweep.Cli;

/// <summary>`verify`: the papers' findings, computed from a study's result files, each with what was measured.</summary>
public static class VerifyCommand
{
    public static int Execute(IAnsiConsole console, string studyDirectory, bool json)
    {
        var study = StudyFiles.Read(studyDirectory);
        int unfinished = PaperFindings.Unfinished(study.Spec, study.Results);
        if (unfinished > 0)
            throw new UsageException($"{Path.GetFullPath(studyDirectory)}: the study is not finished ({unfinished} of {study.Trials.Count} trials have no result); " +
                                     "`orleans-sweep resume` it first: findings over part of a grid would mislead.");
        var findings = PaperFindings.Check(study.Spec, study.Results);
        var applicable = findings.Where(f => f.Verdict != FindingVerdict.NotApplicable).ToList();
        int exit = applicable.Count == 0 ? ExitCodes.UserError
            : applicable.All(f => f.Verdict == FindingVerdict.Holds) ? ExitCodes.Ok : ExitCodes.FindingsNotReproduced;
        if (json)
        {
            console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(new
            {
                study = study.Spec.Name,
                rules = study.Spec.Findings ?? new FindingsSpec(),
                rulesFrom = study.Spec.Findings is null ? "defaults" : "spec",
                findings = findings.Select(f => new
                {
                    id = f.Id, claim = f.Claim, verdict = Verdict(f.Verdict), measured = f.Measured,
                    margin = f.Evidence?.Margin, noise = f.Evidence?.Noise, seeds = f.Evidence?.Seeds, unit = f.Evidence?.Unit,
                    confidence = f.Evidence?.Confidence, notJudged = f.Evidence?.WhyNotJudged,
                    perSeed = f.Evidence?.PerSeed.Select(s => new { seed = s.Seed, margin = s.Margin }),
                }),
            }, SweepSpecLoader.JsonOptions));
            return exit;
        }
        console.MarkupLineInterpolated($"Study [bold]{study.Spec.Name}[/] ({studyDirectory}): {study.Results.Count} results.");
        foreach (var f in findings)
        {
            string mark = f.Verdict switch
            {
                FindingVerdict.Holds => "[green]holds[/]",
                FindingVerdict.DoesNotHold => "[red]does not hold[/]",
                FindingVerdict.WithinNoise => "[yellow]within noise[/]",
                FindingVerdict.CannotBeJudged => f.Evidence?.Noise is null ? "[yellow]one seed: cannot be judged[/]" : $"[yellow]{f.Evidence.Seeds} seeds: cannot be judged[/]",
                _ => "[grey]not applicable[/]",
            };
            console.MarkupLine($"{mark}  [bold]{Markup.Escape(f.Id)}[/]: {Markup.Escape(f.Claim)}");
            console.MarkupLine($"      measured: {Markup.Escape(f.Measured)}");
            if (f.Evidence is { } e)
                console.MarkupLine(Markup.Escape(FormattableString.Invariant(
                    $"      margin {e.Margin:0.###} {e.Unit}, noise {(e.Noise is double n ? $"+/- {n:0.###} ({e.Confidence * 100:0.#}% interval over {e.Seeds} seeds)" : "unknown (one seed)")}{(e.Noise is not null && e.WhyNotJudged is { } why ? $"; {why}" : "")}")));
        }
        if (applicable.Count == 0) console.MarkupLine("[red]error:[/] none of the papers' findings applies to this study.");
        else console.MarkupLineInterpolated($"{applicable.Count(f => f.Verdict == FindingVerdict.Holds)} of {applicable.Count} applicable findings hold (thresholds and confidence: {(study.Spec.Findings is null ? "the defaults" : "the study's config")}).");
        return exit;
    }

    private static string Verdict(FindingVerdict verdict) => verdict switch
    {
        FindingVerdict.Holds => "holds",
        FindingVerdict.DoesNotHold => "does-not-hold",
        FindingVerdict.WithinNoise => "within-noise",
        FindingVerdict.CannotBeJudged => "cannot-be-judged",
        _ => "not-applicable",
    };
}

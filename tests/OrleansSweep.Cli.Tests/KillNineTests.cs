using OrleansSweep.Reporting;
using System.Diagnostics;
using OrleansSweep.Cli;
using OrleansSweep.Core.Results;
using OrleansSweep.TestSupport;
using OrleansSweep.Study;

namespace OrleansSweep.Cli.Tests;

/// <summary>The embedded mode survives `kill -9`: a real `orleans-sweep run` process is killed mid-sweep, then resumed.</summary>
[Collection(MultiProcessCollection.Name)]
public sealed class KillNineTests : IDisposable
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-kill9");

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task A_killed_run_resumes_keeping_finished_trials_and_completes_the_rest()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 256, testCount: 20);
        string spec = _work.Combine("spec.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson("kill9", data, batchSizes: [16, 32], learningRates: ["2^-8", "2^-7", "2^-6"], epochs: 4));
        string study = _work.Combine("study");
        string csv = Path.Combine(study, StudyLayout.ResultsCsvFileName);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "orleans-sweep.dll"), "run", spec, "--study", study, "--threads", "1", "--plain" })
            start.ArgumentList.Add(a);
        using (var run = Process.Start(start)!)
        {
            _ = run.StandardOutput.ReadToEndAsync();
            _ = run.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!(File.Exists(csv) && File.ReadAllText(csv).Contains(",completed,")) && DateTime.UtcNow < deadline && !run.HasExited)
                await Task.Delay(50);
            Assert.False(run.HasExited, "the run ended before it could be killed");
            run.Kill(entireProcessTree: true); // SIGKILL: no chance to clean up
            await run.WaitForExitAsync();
        }
        var finishedBefore = File.ReadAllLines(csv).Where(l => l.Contains(",completed,")).ToList();
        Assert.NotEmpty(finishedBefore);

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Assert.Equal(ExitCodes.Ok, await CliApp.InvokeAsync(["resume", study, "--threads", "1"], TestConsole.Create(new StringWriter()), limit.Token));

        var after = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Equal(6, after.Count);
        Assert.All(after, l => Assert.Contains(",completed,", l));
        Assert.All(finishedBefore, l => Assert.Contains(l, after)); // recorded once, not retrained
    }
}

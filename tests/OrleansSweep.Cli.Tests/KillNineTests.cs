using OrleansSweep.Reporting;
using System.Diagnostics;
using OrleansSweep.Cli;
using OrleansSweep.Core.Results;
using OrleansSweep.TestSupport;
using OrleansSweep.Study;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The embedded mode survives `kill -9` and Ctrl-C: a real `orleans-sweep run` process is killed mid-sweep, or sent SIGINT
/// mid-epoch, then resumed.
/// </summary>
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
        // What the finished trials wrote (checkpoints, final weights), to show that the resume writes none of it again.
        var finishedFiles = finishedBefore.Select(l => Path.Combine(study, StudyLayout.TrialsDirectoryName, l.Split(',')[0]))
            .SelectMany(d => Directory.GetFiles(d, "*", SearchOption.AllDirectories)).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Assert.NotEmpty(finishedFiles);

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Assert.Equal(ExitCodes.Ok, await CliApp.InvokeAsync(["resume", study, "--threads", "1"], TestConsole.Create(new StringWriter()), limit.Token));

        var after = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Equal(6, after.Count);
        Assert.All(after, l => Assert.Contains(",completed,", l));
        Assert.All(finishedBefore, l => Assert.Contains(l, after)); // recorded once
        Assert.Equal(finishedFiles, finishedFiles.Keys.ToDictionary(f => f, File.GetLastWriteTimeUtc)); // not retrained
    }

    [Fact]
    public async Task Ctrl_C_stops_a_run_mid_epoch_and_resume_continues_from_that_step_to_the_same_numbers()
    {
        string data = _work.Combine("data-int");
        // 4,096 images at batch 16: 256 steps an epoch, so SIGINT lands inside an epoch, not at its end.
        SyntheticFashion.Write(data, trainCount: 4096, testCount: 20);
        string spec = _work.Combine("spec-int.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson("ctrl-c", data, batchSizes: [16], learningRates: ["2^-8"], epochs: 3));
        string study = _work.Combine("study-int");
        const string trial = "bs16-lr2^-8-none-s0";
        string firstEpoch = Path.Combine(study, "trials", trial, "checkpoints", "epoch-00001.ckpt");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "orleans-sweep.dll"), "run", spec, "--study", study, "--threads", "1", "--plain" })
            start.ArgumentList.Add(a);
        string output;
        using (var run = Process.Start(start)!)
        {
            var stdout = run.StandardOutput.ReadToEndAsync();
            var stderr = run.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!File.Exists(firstEpoch) && DateTime.UtcNow < deadline && !run.HasExited) await Task.Delay(50);
            Assert.False(run.HasExited, "the run ended before it could be interrupted");
            await Task.Delay(500); // into the second epoch
            using (var signal = Process.Start("kill", ["-INT", run.Id.ToString()])) await signal.WaitForExitAsync();
            using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await run.WaitForExitAsync(limit.Token);
            output = await stdout + await stderr;
            Assert.True(run.ExitCode == ExitCodes.Cancelled, $"exit {run.ExitCode}:\n{output}");
        }
        Assert.DoesNotContain("Exception", output);

        using var limitResume = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Assert.Equal(ExitCodes.Ok, await CliApp.InvokeAsync(["resume", study, "--threads", "1"], TestConsole.Create(new StringWriter()), limitResume.Token));
        var resumed = StudyFiles.Read(study).Results[trial];
        Assert.Equal(TrialStatus.Completed, resumed.Status);
        // Resumed from the step the interrupted run had reached, not from the epoch boundary before it.
        Assert.True(resumed.ResumedFromEpoch >= 1 && resumed.ResumedFromStep > resumed.ResumedFromEpoch * 256L,
            $"resumed from epoch {resumed.ResumedFromEpoch}, step {resumed.ResumedFromStep}");

        // And it ends where an uninterrupted run of the same trial ends, bit for bit.
        var console = new StringWriter();
        Assert.Equal(ExitCodes.Ok, await CliApp.InvokeAsync(["train", spec, "--threads", "1", "--json"], TestConsole.Create(console), limitResume.Token));
        var straight = System.Text.Json.JsonSerializer.Deserialize<TrialResult>(console.ToString(), OrleansSweep.Core.Specs.SweepSpecLoader.JsonOptions)!;
        Assert.Equal(straight.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy, e.TrainAccuracy)),
            resumed.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy, e.TrainAccuracy)));
        Assert.Equal(straight.FinalTrainFit, resumed.FinalTrainFit);
    }
}

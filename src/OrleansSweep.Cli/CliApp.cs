using OrleansSweep.Hosting;
using System.CommandLine;
using Microsoft.Extensions.Configuration;
using OrleansSweep.Core.Specs;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Training.Checkpoints;
using OrleansSweep.Training.Data;
using Spectre.Console;
using OrleansSweep.Study;

namespace OrleansSweep.Cli;

/// <summary>The `orleans-sweep` command line: parsing, and turning user errors into one clear line and an exit code.</summary>
public static class CliApp
{
    /// <param name="console">Where results and progress go (standard output).</param>
    /// <param name="errors">Where errors go (standard error, so `export ... > grids.csv` never writes one into the CSV);
    /// null: <paramref name="console"/>.</param>
    public static async Task<int> InvokeAsync(string[] args, IAnsiConsole console, CancellationToken cancellation = default, IAnsiConsole? errors = null)
    {
        errors ??= console;
        var specArgument = new Argument<string>("spec") { Description = "Sweep spec (JSON), e.g. configs/quickstart.json" };
        var studyOption = new Option<string?>("--study") { Description = "Study directory for results (default: studies/<sweep name>)" };
        var deviceOption = new Option<string[]>("--device")
        {
            Description = $"Device to train on: cpu, cuda:N or auto (repeat for several; default {DeviceOptions.DefaultDevice})",
            // Repeat the option for several devices: `--device cpu SPEC` must not take the spec for a second device.
            AllowMultipleArgumentsPerToken = false,
        };
        var slotsOption = new Option<int?>("--slots") { Description = "Trials sharing one device at once (default: a CPU's cores / threads per trial, bounded by memory; a GPU: as many as fit at its first trial's measured memory, at most 8)" };
        var threadsOption = new Option<int?>("--threads") { Description = "Intra-op threads of a trial whose spec sets no training.threads (default 1 with automatic slots, else cores / slots)" };
        var batchPerSlotOption = new Option<int?>("--batch-per-slot") { Description = "Packing: a trial of batch m takes ceil(m / this) of its device's slots" };
        var plainOption = new Option<bool>("--plain") { Description = "Line-by-line progress even on a terminal" };
        var pagePortOption = new Option<int?>("--page-port") { Description = "Serve the live sweep page on 127.0.0.1:PORT (default: a free port, printed; 0: none)" };
        var metricsPortOption = new Option<int?>("--metrics-port") { Description = "Serve Prometheus metrics on 127.0.0.1:PORT/metrics while the sweep runs (default: none)" };

        var run = new Command("run", "Run a sweep in this process (embedded silo + client) and write its study directory.\n\n" +
                                     "Example: orleans-sweep run configs/quickstart.json")
        {
            specArgument, studyOption, deviceOption, slotsOption, threadsOption, batchPerSlotOption, plainOption, metricsPortOption, pagePortOption,
        };
        // The embedded silo's device flags are its configuration keys, bound and checked by the options code (DeviceOptions).
        var deviceFlags = new SettingFlags(DeviceOptions.Section,
        [
            (deviceOption, nameof(DeviceOptions.Devices)), (slotsOption, nameof(DeviceOptions.SlotsPerDevice)),
            (threadsOption, nameof(DeviceOptions.ThreadsPerTrial)), (batchPerSlotOption, nameof(DeviceOptions.BatchPerSlot)),
            (metricsPortOption, nameof(MetricsOptions.MetricsPort)),
        ]);
        IConfiguration DeviceSettings(ParseResult parse)
        {
            // A laptop run serves no metrics unless asked: two runs at once must not fight over a port.
            var settings = deviceFlags.Configuration(parse, [new($"{DeviceOptions.Section}:{nameof(MetricsOptions.MetricsPort)}", "0")]);
            DeviceOptions.From(settings).Validated(deviceFlags.FlagOf); // before anything is created
            SiloPreflight.CheckMetrics(MetricsOptions.From(settings), deviceFlags.FlagOf);
            return settings;
        }
        int? PagePort(ParseResult parse)
        {
            // Checked (a port, and free) before the study directory is created, like the metrics port.
            int? port = parse.GetValue(pagePortOption);
            if (port is int asked and not 0) SiloPreflight.EnsurePortFree("127.0.0.1", asked, "--page-port");
            return port;
        }
        bool Interactive(ParseResult parse) => !parse.GetValue(plainOption) && console.Profile.Capabilities.Interactive;

        run.SetAction((parse, token) => Guard(errors, async () =>
        {
            var settings = new RunCommand.Settings(parse.GetValue(specArgument)!, parse.GetValue(studyOption), DeviceSettings(parse), Interactive(parse),
                PagePort(parse));
            return await new RunCommand(console).ExecuteAsync(settings, token);
        }));

        var trialOption = new Option<string?>("--trial") { Description = "Trial id to train (needed when the spec has several), e.g. bs16-lr2^-8-none-s0" };
        var trainDeviceOption = new Option<string>("--device") { Description = "cpu, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var checkpointsOption = new Option<string?>("--checkpoints") { Description = "Checkpoint directory: written every epoch, resumed from when present" };
        var weightsOption = new Option<string?>("--weights") { Description = "Export the final weights here as a PyTorch state dict (.pt)" };
        var jsonOption = new Option<bool>("--json") { Description = "Print the result as JSON only" };
        var tensorBoardOption = new Option<string?>("--tensorboard") { Description = "Write TensorBoard event files here (tensorboard --logdir DIR)" };
        var train = new Command("train", "Train one trial of a spec in this process, without Orleans (debugging, benchmarks).\n\n" +
                                         "Example: orleans-sweep train configs/quickstart.json --trial bs16-lr2^-8-none-s0 --threads 2")
        {
            specArgument, trialOption, trainDeviceOption, threadsOption, checkpointsOption, weightsOption, jsonOption, tensorBoardOption,
        };
        train.SetAction((parse, token) => Guard(errors, () =>
        {
            int? threads = parse.GetValue(threadsOption);
            if (threads is < 1) throw new UsageException($"--threads: {threads} (expected >= 1).");
            CheckDevice(parse.GetValue(trainDeviceOption)!);
            var settings = new TrainCommand.Settings(parse.GetValue(specArgument)!, parse.GetValue(trialOption), parse.GetValue(trainDeviceOption)!,
                threads, parse.GetValue(checkpointsOption), parse.GetValue(weightsOption), parse.GetValue(jsonOption), parse.GetValue(tensorBoardOption));
            return Task.Run(() => new TrainCommand(console).Execute(settings, token), CancellationToken.None);
        }));

        var studyArgument = new Argument<string>("study") { Description = "Study directory of an earlier run, e.g. studies/quickstart" };
        var resume = new Command("resume", "Continue an interrupted sweep from its study directory: finished trials are kept, the others " +
                                           "continue from their checkpoints.\n\nExample: orleans-sweep resume studies/quickstart")
        {
            studyArgument, deviceOption, slotsOption, threadsOption, batchPerSlotOption, plainOption, metricsPortOption, pagePortOption,
        };
        resume.SetAction((parse, token) => Guard(errors, async () =>
        {
            string study = parse.GetValue(studyArgument)!;
            string spec = Path.Combine(study, StudyLayout.SpecFileName);
            if (!File.Exists(spec))
                throw new StudyDirectoryException($"{Path.GetFullPath(study)}: not a study directory ({StudyLayout.SpecFileName} is missing; `orleans-sweep run <spec>` creates one).");
            var settings = new RunCommand.Settings(spec, study, DeviceSettings(parse), Interactive(parse), PagePort(parse));
            return await new RunCommand(console).ExecuteAsync(settings, token);
        }));

        var validateJsonOption = new Option<bool>("--json") { Description = "Print the verdict as JSON (valid, problems, trial ids)" };
        var validate = new Command("validate", "Check a spec without running it: every field, and that the dataset files exist.\n\n" +
                                               "Example: orleans-sweep validate configs/quickstart.json --json")
        {
            specArgument, validateJsonOption,
        };
        validate.SetAction((parse, _) => Guard(errors, () =>
            Task.FromResult(new ValidateCommand(console, errors).Execute(parse.GetValue(specArgument)!, parse.GetValue(validateJsonOption)))));

        var report = new Command("report", "Write the study's figures (PNG, SVG) and one self-contained report.html into <study>/report.\n\n" +
                                           "Example: orleans-sweep report studies/quickstart && xdg-open studies/quickstart/report/report.html")
        {
            studyArgument,
        };
        report.SetAction((parse, _) => Guard(errors, () =>
        {
            string study = parse.GetValue(studyArgument)!;
            string html = Reporting.StudyReport.Write(study, StudyFiles.Read(study));
            console.MarkupLineInterpolated($"Report: {Path.GetFullPath(html)}");
            return Task.FromResult(ExitCodes.Ok);
        }));

        var whatOption = new Option<string>("--what") { Description = "results (one row per trial), grids (one row per cell) or interpolations", DefaultValueFactory = _ => "results" };
        whatOption.AcceptOnlyFromAmong("results", "grids", "interpolations");
        var formatOption = new Option<string>("--format") { Description = "csv, json or parquet (typed columns; needs -o)", DefaultValueFactory = _ => "csv" };
        formatOption.AcceptOnlyFromAmong("csv", "json", "parquet");
        var outputOption = new Option<string?>("--output", "-o") { Description = "File to write (written atomically); default: standard output" };
        var export = new Command("export", "Export a study's results, grids or interpolations as CSV, JSON or Parquet, for pandas, polars, R or a spreadsheet.\n\n" +
                                           "Example: orleans-sweep export studies/quickstart --what grids --format parquet -o grids.parquet")
        {
            studyArgument, whatOption, formatOption, outputOption,
        };
        export.SetAction((parse, _) => Guard(errors, async () =>
        {
            string format = parse.GetValue(formatOption)!, what = parse.GetValue(whatOption)!;
            string? output = parse.GetValue(outputOption);
            if (output is not null) OutputPath.Check(output, "--output");
            // Parquet is binary: a terminal cannot show it, and a text console would mangle it.
            else if (format == "parquet") throw new UsageException("--output: --format parquet writes a binary file; give one with -o FILE.parquet.");
            var study = StudyFiles.Read(parse.GetValue(studyArgument)!);
            if (output is null)
            {
                console.Profile.Out.Writer.Write(StudyFiles.Export(study, what, format));
                return ExitCodes.Ok;
            }
            if (format == "parquet") StudyFiles.WriteAtomically(output, await StudyFiles.ExportParquetAsync(study, what));
            else StudyFiles.WriteAtomically(output, StudyFiles.Export(study, what, format));
            console.MarkupLineInterpolated($"Wrote {Path.GetFullPath(output)}");
            return ExitCodes.Ok;
        }));

        var verifyJsonOption = new Option<bool>("--json") { Description = "The findings as JSON" };
        var verify = new Command("verify", "Check the papers' findings against a study's results (computed from its files): small batches best " +
                                           "without BN, the stable LR range narrowing with the batch, the best ghost-BN size, large-batch sharpness " +
                                           "and generalisation. Exit 0: every applicable finding holds; 4: some do not; 2: nothing applies.\n\n" +
                                           "Example: orleans-sweep verify docs/results/keskar")
        {
            studyArgument, verifyJsonOption,
        };
        verify.SetAction((parse, _) => Guard(errors, () =>
            Task.FromResult(VerifyCommand.Execute(console, parse.GetValue(studyArgument)!, parse.GetValue(verifyJsonOption)))));

        var root = new RootCommand("orleans-sweep: hyperparameter sweeps (batch size x learning rate x BN mode x seed) on Microsoft Orleans.")
        {
            run, resume, train, validate, report, export, verify,
        };
        foreach (var command in ClusterCommands.Build(console, action => Guard(errors, action))) root.Add(command);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
        {
            // A usage error: what is wrong and where help is, in one line, exit 2 (not System.CommandLine's 1 plus the
            // whole help page). Its messages can span lines ("Must be one of:" and a line per value): joined.
            string command = parseResult.CommandResult.Command == root ? "" : parseResult.CommandResult.Command.Name + " ";
            string what = string.Join(" ", parseResult.Errors.Select(e => OneLine(e.Message)));
            errors.MarkupLineInterpolated($"[red]error:[/] {ErrorText.Elide(what)} (see `orleans-sweep {command}--help`).");
            return ExitCodes.UserError;
        }
        return await parseResult.InvokeAsync(new InvocationConfiguration
        {
            Output = new AnsiConsoleWriter(console), Error = new AnsiConsoleWriter(errors),
            // Ctrl-C / SIGTERM cancel the command's token; System.CommandLine's default would end the process 2 s later,
            // cutting short a silo's graceful stop (trials checkpoint and are handed back) or a sweep's final writes.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
        }, cancellation);
    }

    /// <summary>A device flag is checked before anything is created: a typo must not become a study of failed trials.</summary>
    private static void CheckDevice(string device)
    {
        if (!Core.Devices.DeviceName.TryParse(device, out _))
            throw new UsageException($"--device: '{device}' is not a device (expected {Core.Devices.DeviceName.Expected}).");
    }

    /// <summary>A parser message on one line: "Must be one of:\n\t'a'\n\t'b'" becomes "Must be one of: 'a', 'b'".</summary>
    private static string OneLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length <= 1 ? message.Trim() : $"{lines[0]} {string.Join(", ", lines.Skip(1))}";
    }

    private static async Task<int> Guard(IAnsiConsole console, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (Core.UserErrors.Find(e) is { } user)
        {
            // The user's to fix or wait out: one line naming what, and the exit code the error carries.
            console.MarkupLineInterpolated($"[red]error:[/] {ErrorText.Elide(user.Message)}");
            return ((Core.IUserError)user).ExitCode;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]cancelled.[/]");
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            // A bug, not a user error: one line by default, the whole trace when asked for.
            console.MarkupLineInterpolated($"[red]internal error:[/] {e.GetType().Name}: {ErrorText.Elide(e.Message)}");
            if (Environment.GetEnvironmentVariable("ORLEANS_SWEEP_DEBUG") == "1") console.WriteException(e);
            else console.MarkupLine("[grey](set ORLEANS_SWEEP_DEBUG=1 for the stack trace)[/]");
            return ExitCodes.InternalError;
        }
    }

}

using Spectre.Console;

var console = AnsiConsole.Console;
// Output to a file or pipe wraps at 80 columns unless told otherwise; COLUMNS (as `ls` and `man` honour it) sets the
// width, e.g. for a verdict file meant to be read whole (docs/results/publish.sh).
if (Console.IsOutputRedirected && int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns >= 40)
    console.Profile.Width = columns;
// Which assemblies a command loaded, written at exit to the file this names: how the tests show that client commands
// (submit, watch, status, ...) never load TorchSharp or the grains although the CLI carries them for `run` and `silo`.
if (Environment.GetEnvironmentVariable("ORLEANS_SWEEP_LOADED_ASSEMBLIES") is { Length: > 0 } loadedAssemblies)
    AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        File.WriteAllLines(loadedAssemblies, AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? ""));
// Errors go to standard error, never into a file the output is redirected to; there they are not wrapped (one line, as
// a log or a script reads it).
var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
if (Console.IsErrorRedirected) errors.Profile.Width = 100_000;
return await OrleansSweep.Cli.CliApp.InvokeAsync(args, console, errors: errors);

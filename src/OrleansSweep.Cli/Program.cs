using Spectre.Console;

var console = AnsiConsole.Console;
// Output to a file or pipe wraps at 80 columns unless told otherwise; COLUMNS (as `ls` and `man` honour it) sets the
// width, e.g. for a verdict file meant to be read whole (docs/results/publish.sh).
if (Console.IsOutputRedirected && int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns >= 40)
    console.Profile.Width = columns;
return await OrleansSweep.Cli.CliApp.InvokeAsync(args, console);

using Spectre.Console;

return await OrleansSweep.Cli.CliApp.InvokeAsync(args, AnsiConsole.Console);

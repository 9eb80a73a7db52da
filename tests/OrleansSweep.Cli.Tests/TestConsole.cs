using Spectre.Console;

namespace OrleansSweep.Cli.Tests;

/// <summary>A plain, non-interactive, wide console writing into a StringWriter, as a redirected terminal would.</summary>
public static class TestConsole
{
    public static IAnsiConsole Create(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        return console;
    }

    /// <summary>Standard error as the program sets it up when redirected: lines are not wrapped (see Program.cs).</summary>
    public static IAnsiConsole CreateErrors(TextWriter errors)
    {
        var console = Create(errors);
        console.Profile.Width = 100_000;
        return console;
    }
}

using System.Text;
using Spectre.Console;

namespace OrleansSweep.Cli;

/// <summary>Lets System.CommandLine's help and parse errors go to the same console as everything else.</summary>
internal sealed class AnsiConsoleWriter(IAnsiConsole console) : TextWriter
{
    public override Encoding Encoding => Encoding.UTF8;
    public override void Write(char value) => console.Write(value.ToString());
    public override void Write(string? value) { if (value is not null) console.Write(new Text(value)); }
    public override void WriteLine(string? value) { Write(value); console.WriteLine(); }
}

using System.Text.RegularExpressions;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Core.Tests;

/// <summary>What README.md shows is what the build compiles.</summary>
public class DocumentationTests
{
    [Fact]
    public void The_readmes_client_sample_is_the_program_the_solution_compiles()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        var sample = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(sample.Success, "README.md has no C# sample");
        string compiled = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "ClientSample", "Program.cs"));
        Assert.Equal(compiled.ReplaceLineEndings("\n"), sample.Groups[1].Value.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_readmes_annotated_spec_is_a_valid_spec_with_every_section()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        var sample = Regex.Match(readme, "```jsonc\n(.*?)```", RegexOptions.Singleline);
        Assert.True(sample.Success, "README.md has no annotated spec");
        var spec = SweepSpecLoader.Parse(sample.Groups[1].Value); // unknown fields and bad values throw, naming the field
        Assert.NotNull(spec.Analysis?.Sharpness);
        Assert.NotNull(spec.Findings);
        Assert.Equal(new FindingsSpec(), spec.Findings); // it shows the defaults, as it says
    }
}

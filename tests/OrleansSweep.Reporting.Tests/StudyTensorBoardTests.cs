using OrleansSweep.Study;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Reporting.Tests;

public sealed class StudyTensorBoardTests : IDisposable
{
    private readonly TemporaryDirectory _study = new();

    public void Dispose() => _study.Dispose();

    [Fact]
    public void Event_files_are_copied_by_appending_what_they_gained()
    {
        var board = new StudyTensorBoard(_study.Path);
        const string file = "bs16-lr2^-8-none-s0/events.out.tfevents.1764669600.host.42.1";
        board.Write(file, 0, [1, 2, 3]);
        Assert.Equal(3, board.Lengths()[file]);
        board.Write(file, 3, [4, 5]);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, File.ReadAllBytes(_study.Combine("tensorboard", "bs16-lr2^-8-none-s0", "events.out.tfevents.1764669600.host.42.1")));
        // The copy goes on where it stands, or starts afresh; a gap or an overlap is refused rather than written.
        Assert.Throws<InvalidDataException>(() => board.Write(file, 4, [9]));
        board.Write(file, 0, [7]);
        Assert.Equal(new byte[] { 7 }, File.ReadAllBytes(_study.Combine("tensorboard", "bs16-lr2^-8-none-s0", "events.out.tfevents.1764669600.host.42.1")));
    }

    [Theory]
    [InlineData("../events.out.tfevents.1")]
    [InlineData("../../etc/events.out.tfevents.1")]
    [InlineData("/etc/passwd")]
    [InlineData("trial/../../events.out.tfevents.1")]
    [InlineData("trial/nested/events.out.tfevents.1")]
    [InlineData("trial/report.html")]
    [InlineData("events.out.tfevents.1")]
    [InlineData(".hidden/events.out.tfevents.1")]
    public void Only_a_trials_event_file_is_written_whoever_names_another(string path)
    {
        var board = new StudyTensorBoard(_study.Path);
        Assert.Throws<InvalidDataException>(() => board.Write(path, 0, [1]));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_study.Path)!, "events.out.tfevents.1"));
        Assert.False(Directory.Exists(_study.Combine("tensorboard")) && Directory.EnumerateFileSystemEntries(_study.Combine("tensorboard")).Any());
    }
}

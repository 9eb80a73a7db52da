namespace OrleansSweep.Cli;

/// <summary>How an error's text is shown: whole when it is a line, its two ends when a value in it is huge.</summary>
public static class ErrorText
{
    /// <summary>Longest message shown whole; a longer one (a 5 MiB name echoed back) keeps its start and end.</summary>
    public const int MaxLength = 600;

    public static string Elide(string message)
    {
        if (message.Length <= MaxLength) return message;
        int head = MaxLength * 2 / 3, tail = MaxLength - head;
        return $"{message[..head]} ... ({message.Length - head - tail:N0} characters elided) ... {message[^tail..]}";
    }
}

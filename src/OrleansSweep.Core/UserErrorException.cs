namespace OrleansSweep.Core;

/// <summary>
/// The one user-facing error type: a mistake of the user's, or a condition of theirs to fix or wait out — never a bug.
/// Its message is one line that names the field, file or setting and what was expected; <see cref="ExitCode"/> is what
/// the command line exits with. Every other exception that reaches the command line is an internal error (exit 1).
/// The kinds of user error (a bad spec, a bad dataset file, a bad setting, an unreachable cluster, ...) derive from it
/// so that code can still tell them apart. The command line maps <see cref="IUserError"/>, which this implements.
/// </summary>
public class UserErrorException : Exception, IUserError
{
    /// <param name="message">One line; a value in it holding a line break or another control character is shown escaped.</param>
    public UserErrorException(string message, int exitCode = BadInput) : this(message, exitCode, oneLine: true) { }

    /// <param name="oneLine">False only for a message already made of one-line parts (a spec's list of problems).</param>
    protected UserErrorException(string message, int exitCode, bool oneLine) : base(oneLine ? UserText.OneLine(message) : message) =>
        ExitCode = exitCode;

    /// <summary>Bad input: spec, dataset, study directory, flag or setting. The message says what to fix.</summary>
    public const int BadInput = 2;

    /// <summary>Something the user's setup lacks right now (sysexits' EX_UNAVAILABLE): Redis down, no silo up.</summary>
    public const int Unavailable = 69;

    public int ExitCode { get; }
}

/// <summary>
/// What makes an exception a user error: its message is for the user, and it says the exit code. Implemented by
/// <see cref="UserErrorException"/>, and by the few errors that must cross Orleans' wire, whose serializer wants them
/// derived from <see cref="Exception"/> directly (a sweep grain's refusal of a spec).
/// </summary>
public interface IUserError
{
    int ExitCode { get; }
}

/// <summary>Finding a user error where another exception carries it (Orleans wraps what a storage provider throws).</summary>
public static class UserErrors
{
    /// <summary>The first user error in <paramref name="e"/>'s chain of inner exceptions (itself included), if any.</summary>
    public static Exception? Find(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is IUserError) return current;
            if (current is AggregateException { InnerExceptions.Count: 1 } aggregate && Find(aggregate.InnerExceptions[0]) is { } inner) return inner;
        }
        return null;
    }
}

/// <summary>Text from the user (a name, a path, a value) made safe to show inside a one-line message.</summary>
public static class UserText
{
    /// <summary>
    /// Line breaks, tabs, NUL and other control characters, and the bidirectional overrides that reorder what a
    /// terminal shows, written as escapes ("\n", "\u202E"): a message stays one line and shows what was given.
    /// </summary>
    public static string OneLine(string text)
    {
        if (!text.Any(NeedsEscape)) return text;
        var line = new System.Text.StringBuilder(text.Length + 8);
        foreach (char c in text)
            line.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when NeedsEscape(c) => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        return line.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u2028' or '\u2029';
}

namespace OrleansSweep.Core;

/// <summary>
/// The one user-facing error type: a mistake of the user's, or a condition of theirs to fix or wait out — never a bug.
/// Its message is one line that names the field, file or setting and what was expected; <see cref="ExitCode"/> is what
/// the command line exits with. Every other exception that reaches the command line is an internal error (exit 1).
/// The kinds of user error (a bad spec, a bad dataset file, a bad setting, an unreachable cluster, ...) derive from it
/// so that code can still tell them apart. The command line maps <see cref="IUserError"/>, which this implements.
/// </summary>
public class UserErrorException(string message, int exitCode = UserErrorException.BadInput) : Exception(message), IUserError
{
    /// <summary>Bad input: spec, dataset, study directory, flag or setting. The message says what to fix.</summary>
    public const int BadInput = 2;

    /// <summary>Something the user's setup lacks right now (sysexits' EX_UNAVAILABLE): Redis down, no silo up.</summary>
    public const int Unavailable = 69;

    public int ExitCode { get; } = exitCode;
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

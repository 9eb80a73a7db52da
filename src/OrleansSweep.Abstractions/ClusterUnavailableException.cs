namespace OrleansSweep.Abstractions;

/// <summary>
/// The cluster cannot be reached — Redis down, no silo running — a condition to wait out or fix, not a bug (exit 69).
/// Raised by clients connecting and by silos checking their store before they start; the message says what was tried.
/// </summary>
public sealed class ClusterUnavailableException(string message) : Core.UserErrorException(message, Unavailable);

/// <summary>A cluster setting (a silo's or a client's) that cannot work (a bad value, a port taken): the message names the setting.</summary>
public sealed class ClusterSettingException(string message) : Core.UserErrorException(message);

/// <summary>
/// The sweep's store (Redis, the study's state.db) did not answer a read just now (restarting, failing over): a sweep
/// grain says so in its answer, and clients ask again with back-off, as they do through a silo's failover.
/// </summary>
[GenerateSerializer]
public sealed class SweepStoreUnavailableException : Exception
{
    public SweepStoreUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A sweep's stored state or result cannot be read back (a state.db whose rows were damaged, or written by something
/// else): not a condition that passes, so it is not retried; the message names the file and what to do.
/// </summary>
[GenerateSerializer]
public sealed class SweepStateUnreadableException : Exception, Core.IUserError
{
    public SweepStateUnreadableException(string message) : base(message) { }

    public int ExitCode => Core.UserErrorException.BadInput;

    /// <summary>The one message for a damaged store file.</summary>
    public static SweepStateUnreadableException For(string file, string what, Exception cause) =>
        new($"{file}: {what} cannot be read ({cause.GetType().Name}); move it aside (e.g. to {Path.GetFileName(file)}.corrupt) and run " +
            "the study again: finished trials resume from their checkpoints.");
}

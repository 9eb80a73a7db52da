using System.Diagnostics;

namespace OrleansSweep.Cli;

/// <summary>
/// How long a client keeps trying to reach a gateway: a short window, because a silo that is starting or restarting
/// registers within seconds, and a user who forgot to start one should hear so at once — Orleans' default without a
/// filter retries until the caller gives up, which told the user nothing for 30 s and then only "a task was canceled".
/// Remembers the last failure, so the error can say what went wrong.
/// </summary>
internal sealed class GatewayConnectRetry(TimeSpan window) : IClientConnectionRetryFilter
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(500);
    private readonly Stopwatch _sinceFirstFailure = new();

    public Exception? LastFailure { get; private set; }

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        LastFailure = exception;
        _sinceFirstFailure.Start();
        if (_sinceFirstFailure.Elapsed + Pause > window) return false;
        await Task.Delay(Pause, cancellationToken);
        return true;
    }
}

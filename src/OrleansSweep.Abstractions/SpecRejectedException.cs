namespace OrleansSweep.Abstractions;

/// <summary>
/// A sweep grain refused a spec (invalid, or another spec under the same name): the caller's mistake, reported to the
/// user as one line. Orleans carries it from the grain to the client (Core's <c>SpecException</c> is not serializable).
/// </summary>
[GenerateSerializer]
public sealed class SpecRejectedException : Exception, Core.IUserError
{
    public SpecRejectedException(string message) : base(message) { }

    public int ExitCode => Core.UserErrorException.BadInput;
}

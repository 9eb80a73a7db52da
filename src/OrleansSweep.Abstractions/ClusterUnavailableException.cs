namespace OrleansSweep.Abstractions;

/// <summary>
/// The cluster cannot be reached — Redis down, no silo running — a condition to wait out or fix, not a bug (exit 69).
/// Raised by clients connecting and by silos checking their store before they start; the message says what was tried.
/// </summary>
public sealed class ClusterUnavailableException(string message) : Core.UserErrorException(message, Unavailable);

/// <summary>A cluster setting (a silo's or a client's) that cannot work (a bad value, a port taken): the message names the setting.</summary>
public sealed class ClusterSettingException(string message) : Core.UserErrorException(message);

namespace OrleansSweep.Abstractions;

/// <summary>
/// The cluster cannot be reached — Redis down, no silo running — a condition to wait out or fix, not a bug (exit 69).
/// Raised by clients connecting and by silos checking their store before they start; the message says what was tried.
/// </summary>
public sealed class ClusterUnavailableException(string message) : Exception(message);

namespace OrleansSweep.Training.Trainer;

/// <summary>
/// Reports straight through on the calling (training) thread. <see cref="Progress{T}"/> would post to a captured
/// synchronization context instead, reordering or delaying epoch reports.
/// </summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

using OrleansSweep.Core.Results;

namespace OrleansSweep.Abstractions;

/// <summary>
/// A trial's result as the sweep's result log holds it: its place in the order results were recorded (1, 2, ...), and
/// the result. A reader that has seen up to sequence v asks for what came after v.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RecordedResult([property: Id(0)] long Sequence, [property: Id(1)] TrialResult Result);

namespace OrleansSweep.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>An unexpected error (a bug): reported in one line; ORLEANS_SWEEP_DEBUG=1 adds the stack trace.</summary>
    public const int InternalError = 1;
    /// <summary>Bad input: spec, dataset, study directory. The message says what to fix.</summary>
    public const int UserError = 2;
    /// <summary>The sweep ran, but some trials failed (diverged trials are results, not failures).</summary>
    public const int TrialsFailed = 3;
    /// <summary>verify: some of the papers' findings do not hold in the study's results.</summary>
    public const int FindingsNotReproduced = 4;
    /// <summary>The cluster cannot be reached (sysexits' EX_UNAVAILABLE).</summary>
    public const int Unavailable = 69;
    /// <summary>Interrupted (Ctrl-C): results so far are written.</summary>
    public const int Cancelled = 130;
}

namespace OrleansSweep.Core.Specs;

/// <summary>
/// How `verify` judges the papers' findings on this study: the thresholds and the confidence, fixed in the study's
/// config before it runs (so a verdict cannot be tuned to its data afterwards). Null in a spec: the defaults below,
/// which `verify` prints with every verdict. Not part of any trial's identity.
/// </summary>
public sealed record FindingsSpec
{
    /// <summary>
    /// Two-sided confidence of the interval over seeds that each finding's margin must clear (a paired Student t interval
    /// of the per-seed margins): 0.9 means a finding holds when the 90% interval lies wholly on the claim's side.
    /// </summary>
    public double Confidence { get; init; } = 0.9;
    /// <summary>
    /// The fewest seeds a decisive verdict (holds, does not hold) rests on. Two seeds give the interval one degree of
    /// freedom: a pair that happens to agree makes it narrow on whichever side it fell, so two other seeds can give the
    /// opposite verdict. Fewer seeds whose interval clears zero cannot be judged; an interval that straddles zero is
    /// within noise at any count.
    /// </summary>
    public int MinSeeds { get; init; } = 3;
    /// <summary>
    /// A cell is stable when none of its seeds diverged and every seed's final test accuracy reached this multiple of
    /// chance (1 / classes): a network that trains without diverging but stays at chance learned nothing.
    /// </summary>
    public double StableAccuracyOverChance { get; init; } = 2;
    /// <summary>Masters &amp; Luschi's "small" batches: m at or below this.</summary>
    public int SmallBatchLimit { get; init; } = 32;
    /// <summary>
    /// A cell fitted its training set when the training accuracy at its final weights reached this: then a lower test
    /// accuracy is a generalisation difference, not one of how far training got.
    /// </summary>
    public double FittedTrainAccuracy { get; init; } = 0.99;
    /// <summary>The stable range "narrows" when Spearman's rho between m and its width is at or below this.</summary>
    public double NarrowingCorrelation { get; init; } = -0.7;
    /// <summary>Masters &amp; Luschi Sec. 3.6: the best BN batch lies in [GhostBestMin, GhostBestMax].</summary>
    public int GhostBestMin { get; init; } = 4;
    public int GhostBestMax { get; init; } = 16;
    /// <summary>Keskar et al.'s Table 3: the large batch's sharpness is at least this multiple of the small batch's.</summary>
    public double SharpnessRatio { get; init; } = 10;
    /// <summary>
    /// The sharpness measure ("space@eps", e.g. "filter@0.001") the sharpness verdict is judged by; null: the
    /// scale-invariant "filter" space at the largest eps when it was measured, else the full space at the largest eps
    /// (Keskar's headline), else any measured one.
    /// </summary>
    public string? SharpnessMeasure { get; init; }
}

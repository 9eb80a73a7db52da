using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Trials;

/// <summary>
/// A spec's grid without expanding it: cell index to trial id and trial spec, and back, in the dispatch order of
/// <see cref="GridExpander"/> (BN mode, seed, batch size, base LR; each axis in spec order). A sweep of a million
/// cells keeps four short axis lists instead of a million trial objects; a trial's spec is built when it is dispatched.
/// Indexes are positions in this spec's grid only: a grid that grows renumbers them, so what is stored is the trial id.
/// </summary>
public sealed class GridLayout
{
    private readonly SweepSpec _spec;
    private readonly BnMode[] _bnModes;
    private readonly AnalysisSpec? _trialAnalysis;
    // Trial id tokens per axis ("bs16", "lr2^-8", "none", "s0") and their positions, for parsing an id back to a cell.
    private readonly Dictionary<string, int> _batchIndex, _lrIndex, _bnIndex, _seedIndex;
    private readonly string[] _batchTokens, _lrTokens, _bnTokens, _seedTokens;
    // Dispatch order within a seed round (see DispatchCell): batch and LR axis positions by rank, and back.
    private readonly int[] _batchByRank, _lrByRank, _batchRank, _lrRank;

    public GridLayout(SweepSpec spec)
    {
        _spec = spec;
        var grid = spec.Grid;
        _bnModes = [.. grid.BnModes.Select(BnMode.Parse)];
        _trialAnalysis = spec.Analysis is { Sharpness: not null } or { Hessian: not null } ? spec.Analysis with { Interpolations = [] } : null;
        _batchTokens = [.. grid.BatchSizes.Select(b => $"bs{b.ToString(System.Globalization.CultureInfo.InvariantCulture)}")];
        _lrTokens = [.. grid.BaseLearningRates.Select(lr => $"lr{LearningRateFormat.Format(lr)}")];
        _bnTokens = [.. _bnModes.Select(m => m.Token)];
        _seedTokens = [.. grid.Seeds.Select(s => $"s{s.ToString(System.Globalization.CultureInfo.InvariantCulture)}")];
        _batchIndex = IndexOf(_batchTokens);
        _lrIndex = IndexOf(_lrTokens);
        _bnIndex = IndexOf(_bnTokens);
        _seedIndex = IndexOf(_seedTokens);
        Count = checked(_bnTokens.Length * _seedTokens.Length * _batchTokens.Length * _lrTokens.Length);
        _batchByRank = [.. Enumerable.Range(0, grid.BatchSizes.Count).OrderByDescending(i => DispatchCost.PerEpoch(grid.BatchSizes[i])).ThenBy(i => i)];
        _lrByRank = [.. Enumerable.Range(0, grid.BaseLearningRates.Count).OrderBy(i => grid.BaseLearningRates[i]).ThenBy(i => i)];
        _batchRank = Inverse(_batchByRank);
        _lrRank = Inverse(_lrByRank);
    }

    /// <summary>
    /// The cell dispatched <paramref name="position"/>-th. Seed rounds stay whole and in grid order (BN mode, then seed,
    /// outermost), so a sweep stopped half-way holds complete seeds of whole BN modes. Within a round the costliest trials
    /// go first, longest processing time first, so a grid does not end on one long trial beside idle slots: batch sizes by
    /// their cost per epoch (<see cref="DispatchCost"/>), largest first; within a batch the LRs in ascending order, since
    /// the largest are the likeliest to diverge and stop early. The grid order of files and tables is unchanged.
    /// </summary>
    public int DispatchCell(int position)
    {
        if ((uint)position >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position), position, $"the grid has {Count} cells.");
        int cellsPerRound = _batchTokens.Length * _lrTokens.Length;
        int round = position / cellsPerRound, inRound = position % cellsPerRound;
        return round * cellsPerRound + _batchByRank[inRound / _lrTokens.Length] * _lrTokens.Length + _lrByRank[inRound % _lrTokens.Length];
    }

    /// <summary>Where cell <paramref name="index"/> stands in the dispatch order: the inverse of <see cref="DispatchCell"/>.</summary>
    public int DispatchPosition(int index)
    {
        var (bn, seed, batch, lr) = Axes(index);
        return ((bn * _seedTokens.Length + seed) * _batchTokens.Length + _batchRank[batch]) * _lrTokens.Length + _lrRank[lr];
    }

    private static int[] Inverse(int[] permutation)
    {
        var inverse = new int[permutation.Length];
        for (int rank = 0; rank < permutation.Length; rank++) inverse[permutation[rank]] = rank;
        return inverse;
    }

    /// <summary>Cells in the grid.</summary>
    public int Count { get; }

    public SweepSpec Spec => _spec;

    /// <summary>The trial id of cell <paramref name="index"/>, as <see cref="GridExpander.TrialIdFor"/> spells it.</summary>
    public string TrialIdAt(int index)
    {
        var (bn, seed, batch, lr) = Axes(index);
        return $"{_batchTokens[batch]}-{_lrTokens[lr]}-{_bnTokens[bn]}-{_seedTokens[seed]}";
    }

    /// <summary>The cell's trial, equal to <see cref="GridExpander.Expand"/>'s at the same index.</summary>
    public TrialSpec TrialAt(int index)
    {
        var (bn, seed, batch, lr) = Axes(index);
        return new TrialSpec
        {
            SweepName = _spec.Name,
            TrialId = TrialIdAt(index),
            BatchSize = _spec.Grid.BatchSizes[batch],
            BaseLearningRate = _spec.Grid.BaseLearningRates[lr],
            BnMode = _bnModes[bn].ToString(),
            Seed = _spec.Grid.Seeds[seed],
            Dataset = _spec.Dataset,
            Model = _spec.Model,
            Training = _spec.Training,
            Analysis = _trialAnalysis,
        };
    }

    /// <summary>The cell of a trial id of this grid; false for an id that is not one (an analysis job's, another grid's).</summary>
    public bool TryIndexOf(string trialId, out int index)
    {
        index = -1;
        // "bs16-lr2^-8-none-s0": the LR token may itself hold a '-' ("2^-8", "1e-3"), so split at the ends.
        int first = trialId.IndexOf('-'), last = trialId.LastIndexOf('-');
        if (first <= 0 || last <= first) return false;
        int beforeLast = trialId.LastIndexOf('-', last - 1);
        if (beforeLast <= first) return false;
        if (!_batchIndex.TryGetValue(trialId[..first], out int batch)
            || !_lrIndex.TryGetValue(trialId[(first + 1)..beforeLast], out int lr)
            || !_bnIndex.TryGetValue(trialId[(beforeLast + 1)..last], out int bn)
            || !_seedIndex.TryGetValue(trialId[(last + 1)..], out int seed))
            return false;
        index = ((bn * _seedTokens.Length + seed) * _batchTokens.Length + batch) * _lrTokens.Length + lr;
        return true;
    }

    private (int Bn, int Seed, int Batch, int Lr) Axes(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the grid has {Count} cells.");
        int lr = index % _lrTokens.Length; index /= _lrTokens.Length;
        int batch = index % _batchTokens.Length; index /= _batchTokens.Length;
        int seed = index % _seedTokens.Length; index /= _seedTokens.Length;
        return (index, seed, batch, lr);
    }

    private static Dictionary<string, int> IndexOf(string[] tokens)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++) index.TryAdd(tokens[i], i);
        return index;
    }
}

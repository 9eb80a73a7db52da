using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Grains.Sweeps;
using StackExchange.Redis;

namespace OrleansSweep.Hosting;

/// <summary>
/// The cluster's result log in Redis, per sweep: a hash of trial id to serialized result, and a list of
/// "status trial-id" entries in the order results were recorded (its position is the sequence). One script appends a
/// record to both atomically, and only when the trial has none, so a write's size is one result's whatever the sweep's
/// size, and a repeated append is a no-op.
/// </summary>
public sealed class RedisTrialResultLog(Func<Task<IDatabase>> database, string serviceId, Serializer serializer) : ITrialResultLog
{
    // KEYS[1] the hash, KEYS[2] the list; ARGV pairs of (trial id, "status trial-id", payload).
    private const string AppendScript = """
        for i = 1, #ARGV, 3 do
          if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 2]) == 1 then
            redis.call('RPUSH', KEYS[2], ARGV[i + 1])
          end
        end
        return redis.call('LLEN', KEYS[2])
        """;

    private RedisKey Results(string sweep) => $"orleans-sweep:{serviceId}:sweep:{sweep}:results";
    private RedisKey Order(string sweep) => $"orleans-sweep:{serviceId}:sweep:{sweep}:order";

    public async Task AppendAsync(string sweep, IReadOnlyList<TrialResult> results)
    {
        if (results.Count == 0) return;
        var arguments = new List<RedisValue>(results.Count * 3);
        foreach (var result in results)
        {
            arguments.Add(result.TrialId);
            arguments.Add($"{(int)result.Status} {result.TrialId}");
            arguments.Add(serializer.SerializeToArray(result));
        }
        var db = await database();
        await db.ScriptEvaluateAsync(AppendScript, [Results(sweep), Order(sweep)], [.. arguments]);
    }

    public async Task<IReadOnlyList<RecordedTrial>> ReadTrialsAsync(string sweep)
    {
        var db = await database();
        var entries = await db.ListRangeAsync(Order(sweep));
        return entries.Select(e =>
        {
            string entry = e!;
            int space = entry.IndexOf(' ');
            return new RecordedTrial(entry[(space + 1)..], (TrialStatus)int.Parse(entry[..space], System.Globalization.CultureInfo.InvariantCulture));
        }).ToList();
    }

    public async Task<IReadOnlyList<RecordedResult>> ReadAsync(string sweep, long afterSequence = 0, int limit = int.MaxValue)
    {
        var db = await database();
        long stop = limit == int.MaxValue || afterSequence > long.MaxValue - limit ? -1 : afterSequence + limit - 1;
        var entries = await db.ListRangeAsync(Order(sweep), afterSequence, stop);
        if (entries.Length == 0) return [];
        var ids = entries.Select(e => (RedisValue)((string)e!)[(((string)e!).IndexOf(' ') + 1)..]).ToArray();
        var payloads = await db.HashGetAsync(Results(sweep), ids);
        var records = new List<RecordedResult>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            // Both are written by one script, so a missing body means a store that lost writes (a restart without its
            // append-only file): say so rather than fail on a null.
            if (payloads[i].IsNull) throw new InvalidDataException($"the result of trial {ids[i]} is listed but missing from {Results(sweep)}");
            try { records.Add(new RecordedResult(afterSequence + i + 1, serializer.Deserialize<TrialResult>((byte[])payloads[i]!)!)); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new SweepStateUnreadableException($"{Results(sweep)}: the result of trial {ids[i]} cannot be read ({e.GetType().Name}): " +
                                                        "it was damaged, or written by another program under this cluster's keys.");
            }
        }
        return records;
    }

    public async Task<long> LastSequenceAsync(string sweep) => await (await database()).ListLengthAsync(Order(sweep));
}

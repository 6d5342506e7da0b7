namespace RdmaKv.Verification;

/// <summary>
/// A history across crashes that may lose acknowledged writes (async durability) is not one
/// register's as a whole, but each stretch between crashes must be: from the start, or from a
/// read-back after a restart (every key read while the clients waited), up to the next crash or
/// read-back. Each such stretch is checked from the state its read-back found (put as writes
/// that end before it); stretches with no read-back at their start (clients raced the restart)
/// are not judged.
/// </summary>
public static class Segments
{
    public static CheckResult Check(History history, IReadOnlyList<long> crashes,
        IReadOnlyList<(long Start, IReadOnlyDictionary<string, string?> Values)> readBacks, TimeSpan maxTime)
    {
        var boundaries = crashes.Concat(readBacks.Select(r => r.Start)).Order().ToList();
        var starts = new List<(long At, IReadOnlyDictionary<string, string?>? Values)> { (long.MinValue, null) };
        starts.AddRange(readBacks.Select(r => (r.Start, (IReadOnlyDictionary<string, string?>?)r.Values)));
        long steps = 0;
        int judged = 0, synthetic = -1;
        CheckResult? undecided = null;
        foreach (var (at, values) in starts)
        {
            long end = boundaries.Where(b => b > at).DefaultIfEmpty(long.MaxValue).Min();
            var operations = history.Operations.Where(o => o.Invoke >= at && o.Invoke < end).ToList();
            if (operations.Count == 0) continue;
            if (values is not null)
            {
                foreach (var (key, value) in values)
                    operations.Add(new Operation(synthetic--, -1, value is null ? OperationKind.Delete : OperationKind.Put, key, value, at - 2, at - 1));
            }
            var result = LinearizabilityChecker.Check(new History(operations, history.TicksPerMillisecond), maxTime: maxTime);
            steps += result.Steps;
            judged++;
            if (result.Verdict == Verdict.NotLinearizable) return result with { Explanation = $"between crashes, from {Describe(at, history)}: {result.Explanation}" };
            if (result.Verdict == Verdict.Undecided) undecided ??= result;
        }
        return undecided ?? new CheckResult(Verdict.Linearizable, null, [], steps, $"linearizable between crashes ({judged} stretches, {steps} steps)");
    }

    static string Describe(long at, History history) =>
        at == long.MinValue ? "the start" : $"the read-back at tick {at}";
}

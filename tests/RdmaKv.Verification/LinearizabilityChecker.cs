namespace RdmaKv.Verification;

/// <summary>The checker's answer for a whole history, with a witness when it is not linearizable.</summary>
public sealed record CheckResult(Verdict Verdict, string? Key, IReadOnlyList<Operation> Witness, long Steps, string Explanation)
{
    public override string ToString() => Explanation;
}

/// <summary>
/// Checks a history of single-key registers key by key (a history is linearizable when each key's
/// is). On failure it shrinks the failing key's history to a small set of operations that still
/// cannot be linearized: it drops a read alone, or a write together with every read that may have
/// returned what it wrote, which keeps a linearizable history linearizable when values are unique;
/// so the witness alone proves the violation.
/// </summary>
public static class LinearizabilityChecker
{
    public static CheckResult Check(History history, long maxSteps = 20_000_000, TimeSpan? maxTime = null, TimeSpan? shrinkTime = null)
    {
        var budget = new SearchBudget(maxSteps, maxTime ?? TimeSpan.FromSeconds(60));
        var undecided = new List<string>();
        foreach (var (key, all) in history.ByKey())
        {
            // A put of unknown outcome whose value no read returned may be taken as never applied,
            // which can only help (values are unique): dropping it keeps the search small after a
            // fault that fails many writes at once. Deletes of unknown outcome stay.
            var read = all.Where(o => o.Kind == OperationKind.Get && o.Value is not null).Select(o => o.Value!).ToHashSet(StringComparer.Ordinal);
            var operations = all.Where(o => !(o.Kind == OperationKind.Put && o.IsUnknown && !read.Contains(o.Value!))).ToList();
            var verdict = RegisterSearch.Check(operations, budget);
            if (verdict == Verdict.Undecided) undecided.Add(key);
            if (verdict != Verdict.NotLinearizable) continue;
            var witness = Shrink(operations, shrinkTime ?? TimeSpan.FromSeconds(20));
            return new CheckResult(Verdict.NotLinearizable, key, witness, budget.StepsTaken,
                $"key {key}: these {witness.Count} of its {operations.Count} operations cannot be linearized:\n{history.Describe(witness)}");
        }
        if (undecided.Count > 0)
            return new CheckResult(Verdict.Undecided, undecided[0], [], budget.StepsTaken,
                $"undecided: the budget ({maxSteps} steps) ran out on {undecided.Count} key(s), first {undecided[0]}");
        return new CheckResult(Verdict.Linearizable, null, [], budget.StepsTaken, $"linearizable ({history.Count} operations, {budget.StepsTaken} steps)");
    }

    /// <summary>Removes groups of operations while the rest stays not linearizable, halving the group size down to one.</summary>
    public static IReadOnlyList<Operation> Shrink(IReadOnlyList<Operation> operations, TimeSpan time)
    {
        long deadline = Environment.TickCount64 + (long)time.TotalMilliseconds;
        var kept = operations.ToList();
        bool StillFails(List<Operation> candidate) =>
            RegisterSearch.Check(candidate, new SearchBudget(2_000_000, TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64)))) == Verdict.NotLinearizable;

        for (int size = Math.Max(1, kept.Count / 2); ; size = Math.Max(1, size / 2))
        {
            bool removed = false;
            for (int start = 0; start < kept.Count && Environment.TickCount64 < deadline;)
            {
                var drop = Closure(kept, kept.Skip(start).Take(size));
                var candidate = kept.Where(o => !drop.Contains(o)).ToList();
                if (candidate.Count < kept.Count && StillFails(candidate))
                {
                    kept = candidate;
                    removed = true;
                }
                else
                {
                    start += size;
                }
            }
            if (Environment.TickCount64 >= deadline || (size == 1 && !removed)) return kept;
        }
    }

    /// <summary>
    /// The operations plus every read that may have returned what one of their writes wrote: for a
    /// put, the reads of its value; for a delete, the reads of absent that may follow it with no
    /// remaining put wholly between the two (such a put would be the latest write before the read).
    /// </summary>
    static HashSet<Operation> Closure(List<Operation> all, IEnumerable<Operation> chosen)
    {
        var drop = new HashSet<Operation>(chosen);
        var putValues = drop.Where(o => o.Kind == OperationKind.Put).Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
        var puts = all.Where(o => o.Kind == OperationKind.Put && !o.IsUnknown && !drop.Contains(o)).ToList();
        // For each dropped delete: its invocation, and the earliest completion of a remaining put invoked after it completed.
        var deletes = drop.Where(o => o.Kind == OperationKind.Delete)
            .Select(d => (d.Invoke, Blocked: puts.Where(w => w.Invoke > d.Complete).Select(w => w.Complete).DefaultIfEmpty(long.MaxValue).Min()))
            .ToList();
        foreach (var o in all)
        {
            if (o.Kind != OperationKind.Get) continue;
            if (o.Value is null ? deletes.Any(d => d.Invoke < o.Complete && o.Invoke <= d.Blocked) : putValues.Contains(o.Value)) drop.Add(o);
        }
        return drop;
    }
}

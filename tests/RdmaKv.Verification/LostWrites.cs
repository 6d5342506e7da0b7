namespace RdmaKv.Verification;

/// <summary>
/// Acknowledged writes that a key's final value contradicts: the final value is neither what the
/// write wrote nor what a write that could have come after it wrote (one that did not end before
/// it began, an unknown one included). A delete writes "absent"; a key never written reads absent,
/// which explains no put.
/// </summary>
public static class LostWrites
{
    public static IReadOnlyList<Operation> Find(History history, IReadOnlyDictionary<string, string?> finalValues)
    {
        var lost = new List<Operation>();
        foreach (var (key, operations) in history.ByKey())
        {
            if (!finalValues.TryGetValue(key, out string? final)) continue;
            var writes = operations.Where(o => o.IsWrite).ToList();
            // A write is explained when some writer of the final value did not end before it began.
            long lastEnd = writes.Where(o => Writes(o, final)).Select(o => o.Complete).DefaultIfEmpty(long.MinValue).Max();
            lost.AddRange(writes.Where(w => !w.IsUnknown && lastEnd < w.Invoke));
        }
        return lost;
    }

    static bool Writes(Operation write, string? value) =>
        write.Kind == OperationKind.Delete ? value is null : write.Value is not null && string.Equals(write.Value, value, StringComparison.Ordinal);
}

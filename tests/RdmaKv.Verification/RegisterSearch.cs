namespace RdmaKv.Verification;

public enum Verdict
{
    Linearizable,
    NotLinearizable,
    Undecided,
}

/// <summary>What a search may spend: steps, and a wall-clock deadline (checked every few hundred steps).</summary>
public sealed class SearchBudget(long maxSteps, TimeSpan maxTime)
{
    readonly long _deadline = Environment.TickCount64 + (long)maxTime.TotalMilliseconds;

    public long StepsLeft { get; private set; } = maxSteps;

    public long StepsTaken { get; private set; }

    public bool Exhausted => StepsLeft <= 0 || Environment.TickCount64 > _deadline;

    /// <summary>Takes one step; false when the budget is spent.</summary>
    public bool Step()
    {
        StepsLeft--;
        StepsTaken++;
        return StepsLeft > 0 && ((StepsTaken & 255) != 0 || Environment.TickCount64 <= _deadline);
    }
}

/// <summary>
/// The Wing–Gong–Lowe search for one register: walk the invocation/completion events in time order;
/// at an invocation, try to linearize that operation now (if the register allows it), and at a
/// completion of an operation not yet linearized, undo the last choice. Configurations already seen
/// (the set of linearized operations and the register's value) are cached and not searched again.
/// A write whose outcome is unknown completes after everything else, so once only such completions
/// remain the history is linearizable: each one left either never happened or happened after the end.
/// </summary>
static class RegisterSearch
{
    const int Absent = -1;

    sealed class Entry
    {
        public required int Op;
        public required bool IsCall;
        public required long Time;
        public Entry? Match; // a call's completion
        public Entry? Prev;
        public Entry? Next;
    }

    public static Verdict Check(IReadOnlyList<Operation> operations, SearchBudget budget)
    {
        int n = operations.Count;
        var values = new Dictionary<string, int>(StringComparer.Ordinal);
        int ValueOf(string? v) => v is null ? Absent : values.TryGetValue(v, out int id) ? id : values[v] = values.Count;
        var effect = new int[n];
        for (int i = 0; i < n; i++) effect[i] = operations[i].Kind == OperationKind.Delete ? Absent : ValueOf(operations[i].Value);

        var events = new List<Entry>(2 * n);
        for (int i = 0; i < n; i++)
        {
            var call = new Entry { Op = i, IsCall = true, Time = operations[i].Invoke };
            var ret = new Entry { Op = i, IsCall = false, Time = operations[i].Complete };
            call.Match = ret;
            events.Add(call);
            events.Add(ret);
        }
        // At equal times a call sorts first: the two operations count as concurrent, never ordered.
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.IsCall == b.IsCall ? a.Op.CompareTo(b.Op) : a.IsCall ? -1 : 1);
        var head = new Entry { Op = -1, IsCall = false, Time = long.MinValue };
        var last = head;
        foreach (var e in events)
        {
            last.Next = e;
            e.Prev = last;
            last = e;
        }

        var zobrist = new ulong[n];
        var random = new Random(n);
        for (int i = 0; i < n; i++) zobrist[i] = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 32);
        var linearized = new ulong[(n + 63) / 64];
        ulong hash = 0;
        int state = Absent;
        var seen = new HashSet<Configuration>();
        var stack = new Stack<(Entry Call, int State)>();
        Entry? entry = head.Next;
        while (true)
        {
            if (!budget.Step()) return Verdict.Undecided;
            if (entry is null || (!entry.IsCall && operations[entry.Op].IsUnknown)) return Verdict.Linearizable;
            int op = entry.Op;
            if (entry.IsCall)
            {
                var o = operations[op];
                bool legal = o.Kind != OperationKind.Get || effect[op] == state;
                int next = o.Kind == OperationKind.Get ? state : effect[op];
                if (legal)
                {
                    linearized[op >> 6] |= 1UL << (op & 63);
                    if (seen.Add(new Configuration((ulong[])linearized.Clone(), hash ^ zobrist[op], next)))
                    {
                        stack.Push((entry, state));
                        state = next;
                        hash ^= zobrist[op];
                        Lift(entry);
                        entry = head.Next;
                        continue;
                    }
                    linearized[op >> 6] &= ~(1UL << (op & 63));
                }
                entry = entry.Next;
            }
            else
            {
                if (stack.Count == 0) return Verdict.NotLinearizable;
                var (call, previous) = stack.Pop();
                state = previous;
                hash ^= zobrist[call.Op];
                linearized[call.Op >> 6] &= ~(1UL << (call.Op & 63));
                Unlift(call);
                entry = call.Next;
            }
        }
    }

    static void Lift(Entry call)
    {
        call.Prev!.Next = call.Next;
        call.Next!.Prev = call.Prev;
        var ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null) ret.Next.Prev = ret.Prev;
    }

    static void Unlift(Entry call)
    {
        var ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null) ret.Next.Prev = ret;
        call.Prev!.Next = call;
        call.Next!.Prev = call;
    }

    readonly struct Configuration(ulong[] linearized, ulong hash, int state) : IEquatable<Configuration>
    {
        readonly ulong[] _linearized = linearized;
        readonly ulong _hash = hash;
        readonly int _state = state;

        public bool Equals(Configuration other) => _hash == other._hash && _state == other._state && _linearized.AsSpan().SequenceEqual(other._linearized);

        public override bool Equals(object? obj) => obj is Configuration c && Equals(c);

        public override int GetHashCode() => HashCode.Combine(_hash, _state);
    }
}

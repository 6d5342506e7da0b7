namespace RdmaKv.Verification;

public enum OperationKind
{
    Put,
    Delete,
    Get,
}

/// <summary>
/// One operation on one key as a client saw it: invoked at <see cref="Invoke"/>, answered at
/// <see cref="Complete"/> (ticks of one monotonic clock). A put carries the value written, a get the
/// value it read (null: absent). A write whose outcome is unknown (the call threw) has no
/// completion: it may never have happened, or have taken effect at any time after its invocation.
/// </summary>
public sealed record Operation(int Id, int Client, OperationKind Kind, string Key, string? Value, long Invoke, long Complete)
{
    /// <summary>The completion of a write whose outcome is unknown.</summary>
    public const long Never = long.MaxValue;

    public bool IsUnknown => Complete == Never;

    public bool IsWrite => Kind != OperationKind.Get;

    /// <summary>True when this operation ended before <paramref name="other"/> began (real-time order).</summary>
    public bool Precedes(Operation other) => Complete < other.Invoke;

    public string Describe(double ticksPerMillisecond)
    {
        string end = IsUnknown ? "?" : $"{Complete / ticksPerMillisecond:F3}";
        string what = Kind switch
        {
            OperationKind.Put => $"put {Key} = {Short(Value)}",
            OperationKind.Delete => $"delete {Key}",
            _ => $"get {Key} -> {(Value is null ? "absent" : Short(Value))}",
        };
        string outcome = IsUnknown ? "  (outcome unknown)" : "";
        static string Short(string? v) => v is { Length: > 24 } ? v[..20] + $"...({v.Length} chars)" : v ?? "";
        return $"#{Id} client {Client}: [{Invoke / ticksPerMillisecond:F3} ms .. {end} ms] {what}{outcome}";
    }
}

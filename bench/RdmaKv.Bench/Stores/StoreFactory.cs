namespace RdmaKv.Bench.Stores;

/// <summary>Opens the store a --target names.</summary>
public static class StoreFactory
{
    public const string Embedded = "embedded";

    /// <summary>Throws ArgumentException for a target it cannot parse; connection failures surface as the clients raise them.</summary>
    public static IBenchStore Open(string target, long recordBytes, long records)
    {
        if (target == Embedded) return new EmbeddedStore(recordBytes, records);
        if (target.StartsWith("redis://", StringComparison.Ordinal)) return new RedisStore(target);
        if (target.StartsWith("local:", StringComparison.Ordinal)) return new RdmaKvStore(target, "shared memory (same host)");
        // ucx:// and whatever else the client learns: it parses the URI and says when it does not know it.
        return new RdmaKvStore(target, target.StartsWith("ucx://", StringComparison.Ordinal) ? $"UCX (UCX_TLS={Environment.GetEnvironmentVariable("UCX_TLS") ?? "UCX's default"})" : target);
    }
}

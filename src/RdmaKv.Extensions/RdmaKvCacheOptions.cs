namespace RdmaKv.Extensions;

/// <summary>Settings of <see cref="RdmaKvCache"/>; the connection itself is <see cref="RdmaKvOptions"/>.</summary>
public sealed class RdmaKvCacheOptions
{
    /// <summary>
    /// A prefix put before every key of this cache (e.g. <c>"myapp:"</c>), so that applications or
    /// instances sharing a node keep apart. Null or empty: keys are stored as given. The prefix and
    /// the key together are at most 1,024 bytes in UTF-8.
    /// </summary>
    public string? InstanceName { get; set; }
}

namespace RdmaKv.Core;

/// <summary>
/// The store behind a partition's region that holds every key, including those whose values the
/// region has evicted. The writer asks it only to tell apart keys whose not-resident entries look
/// alike (same fingerprint and low 32 hash bits); callers hold the partition's writer lock.
/// </summary>
public interface IColdTier
{
    /// <summary>True when the store holds <paramref name="key"/>.</summary>
    bool Contains(ReadOnlySpan<byte> key);
}

namespace RdmaKv.Client;

/// <summary>A key and a value as spans, for callbacks that must not capture them (state of a static lambda).</summary>
ref struct KeyValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt = 0)
{
    public ReadOnlySpan<byte> Key = key;
    public ReadOnlySpan<byte> Value = value;

    /// <summary>Milliseconds since 1970 (UTC) when the value expires; 0 for never.</summary>
    public long ExpiresAt = expiresAt;
}

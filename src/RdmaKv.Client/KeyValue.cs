namespace RdmaKv.Client;

/// <summary>A key and a value as spans, for callbacks that must not capture them (state of a static lambda).</summary>
ref struct KeyValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
{
    public ReadOnlySpan<byte> Key = key;
    public ReadOnlySpan<byte> Value = value;
}

namespace RdmaKv.Core;

/// <summary>The size limits every node and client enforces. They are part of the wire contract.</summary>
public static class Limits
{
    /// <summary>Largest key, in bytes. Keys are identifiers; 1 KiB leaves room for composite keys.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>Largest value, in bytes (1 MiB, as memcached). Larger objects belong in a blob store.</summary>
    public const int MaxValueLength = 1 << 20;

    /// <summary>Largest extent: header, the largest key and the largest value, rounded up to 64 bytes.</summary>
    public const int MaxExtentLength = (ExtentHeader.Size + MaxKeyLength + MaxValueLength + ExtentUnits.Size - 1) & ~(ExtentUnits.Size - 1);
}

using RdmaKv.Core;

namespace RdmaKv.Resp;

/// <summary>
/// What one RESP command may be: the parser refuses anything beyond these with a protocol error
/// and the connection is closed, so a client can make the gateway buffer at most about
/// <see cref="MaxCommandBytes"/> per connection.
/// </summary>
public sealed record RespLimits
{
    /// <summary>Largest bulk string: a value (<see cref="Limits.MaxValueLength"/>) is the largest argument the store takes.</summary>
    public int MaxBulkLength { get; init; } = Limits.MaxValueLength;

    /// <summary>Most arguments in one command (MSET's pairs and MGET's keys count here).</summary>
    public int MaxArguments { get; init; } = 64 * 1024;

    /// <summary>Most bytes of all bulk strings of one command together.</summary>
    public long MaxCommandBytes { get; init; } = 64L << 20;

    /// <summary>Longest inline command (a line typed without RESP framing), as Redis's 64 KiB.</summary>
    public int MaxInlineLength { get; init; } = 64 * 1024;

    /// <summary>Longest "*N" or "$N" header line, digits and sign included.</summary>
    public const int MaxHeaderLength = 24;

    public static RespLimits Default { get; } = new();
}

namespace RdmaKv.Resp;

/// <summary>What the gateway has served, counted with interlocked adds from every connection, for INFO.</summary>
public sealed class RespCounters
{
    public long ConnectionsTotal;
    public long ConnectionsOpen;
    public long Commands;
    public long ErrorReplies;
    public long ProtocolErrors;
    public long KeyspaceHits;
    public long KeyspaceMisses;
    public long BytesIn;

    /// <summary>When the gateway started (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), for INFO's uptime.</summary>
    public long StartedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
}

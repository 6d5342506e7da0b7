namespace RdmaKv.Server;

/// <summary>What a node has served, counted with interlocked adds from every connection thread.</summary>
public sealed class NodeCounters
{
    public long Puts;
    public long Deletes;
    public long FallbackGets;
    public long MultiPuts;
    public long Errors;
    public long BadFrames;
    public long Connections;
    public long ConnectionsOpen;
    public long BytesIn;

    public Dictionary<string, long> Snapshot() => new()
    {
        ["puts"] = Volatile.Read(ref Puts),
        ["deletes"] = Volatile.Read(ref Deletes),
        ["fallback_gets"] = Volatile.Read(ref FallbackGets),
        ["multi_puts"] = Volatile.Read(ref MultiPuts),
        ["errors"] = Volatile.Read(ref Errors),
        ["bad_frames"] = Volatile.Read(ref BadFrames),
        ["connections_total"] = Volatile.Read(ref Connections),
        ["connections_open"] = Volatile.Read(ref ConnectionsOpen),
        ["bytes_in"] = Volatile.Read(ref BytesIn),
    };
}

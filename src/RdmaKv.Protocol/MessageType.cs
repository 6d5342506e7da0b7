namespace RdmaKv.Protocol;

/// <summary>The first element of every message. The numbers travel on the wire: never renumber.</summary>
public enum MessageType : byte
{
    Hello = 1,
    HelloReply = 2,
    Put = 3,
    Delete = 4,
    Get = 5,
    MultiPut = 6,
    Regions = 7,
    Reply = 8,
    ValueReply = 9,
    Stats = 10,
    StatsReply = 11,

    /// <summary>A local client asks for a shared-memory mailbox; the Reply's text is its path.</summary>
    OpenMailbox = 12,

    /// <summary>A client's counters since its last report (one-sided lookups, retries, checksum failures); answered with Reply.</summary>
    ClientReport = 13,

    /// <summary>A client asks for the cluster map: a ValueReply with the map's JSON, or NotFound from a node on its own.</summary>
    ClusterMap = 14,

    // A slot move, sent by the slot's current owner to the node taking it over (see
    // docs/cluster.md). Each is answered with Reply.

    /// <summary>Key: the slot number (UTF-8 digits). The receiver starts accepting the moves below for it.</summary>
    MoveIn = 15,

    /// <summary>Pairs copied from the owner: stored unless the receiver already has the key or saw it deleted during the move.</summary>
    Import = 16,

    /// <summary>A put the owner applied during the move, forwarded before the owner replied to its client.</summary>
    MovePut = 17,

    /// <summary>A delete the owner applied during the move, forwarded likewise.</summary>
    MoveDelete = 18,

    /// <summary>Value: a cluster map's JSON; the receiver takes it when its epoch is newer.</summary>
    AdoptMap = 19,

    // Replication (see docs/replication.md): sent by a slot's primary, or by the controller, to
    // other nodes of the cluster on the cluster credential. Each is answered with Reply.

    /// <summary>Epoch, sender, key, value: a put the primary is about to apply, applied by a backup first.</summary>
    ReplicaPut = 20,

    /// <summary>Epoch, sender, key: a delete likewise.</summary>
    ReplicaDelete = 21,

    /// <summary>Epoch, sender: a primary asks a backup for a read lease; Ok grants it for the lease time from the request's sending.</summary>
    Grant = 22,

    /// <summary>Epoch, node: the controller tells a backup to grant the node nothing more and take no more of its writes at that epoch or older.</summary>
    Fence = 23,

    /// <summary>Epoch, target node, key: the slots (UTF-8 "1,2,3") the primary is to copy to the target, which then becomes their backup.</summary>
    AddBackup = 24,
}

/// <summary>Protocol constants shared by clients and nodes.</summary>
public static class Wire
{
    /// <summary>Sent in Hello; a node refuses versions it does not speak.</summary>
    public const int ProtocolVersion = 1;

    /// <summary>Bytes of the little-endian length that precedes every frame.</summary>
    public const int LengthPrefix = 4;

    /// <summary>Largest payload: one maximal put, or a multi-put of about that size.</summary>
    public const int MaxFrameLength = Core.Limits.MaxValueLength + Core.Limits.MaxKeyLength + 64 * 1024;

    public const int MaxMultiPutPairs = 4096;
    public const int MaxRegions = 65536;
    public const int MaxStats = 1024;
    public const int MaxTextLength = 4096;
}

namespace RdmaKv.Server;

/// <summary>Who sent a write, which decides whether this node may apply it (<c>StorageNode.Admit</c>).</summary>
enum WriteSource
{
    /// <summary>A client: applied by the slot's primary, which replicates it first.</summary>
    Client,

    /// <summary>The slot's owner during a move or while it copies the slot to a new backup (MovePut, MoveDelete).</summary>
    Move,

    /// <summary>The slot's primary, replicating to this backup (ReplicaPut, ReplicaDelete).</summary>
    Replica,
}

/// <summary>A write's source, and for a replicated one the primary's id and map epoch.</summary>
readonly record struct WriteOrigin(WriteSource Source, long Epoch = 0, string? Sender = null)
{
    public static WriteOrigin Client => default;
    public static WriteOrigin Move => new(WriteSource.Move);
    public static WriteOrigin Replica(long epoch, string sender) => new(WriteSource.Replica, epoch, sender);
}

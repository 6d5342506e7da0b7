namespace RdmaKv.Core.Cluster;

/// <summary>What a finished slot move did: the new epoch, the keys copied to the target and dropped here, and the nodes that could not be told.</summary>
public sealed record MoveReport(int Slot, string From, string To, long Epoch, long KeysCopied, long KeysDropped, double ElapsedMs, IReadOnlyList<string> NodesNotTold);

namespace RdmaKv.Core.Cluster;

/// <summary>What a finished slot move did: the new epoch, the keys copied to the target and dropped here, and the nodes that could not be told.</summary>
public sealed record MoveReport(int Slot, string From, string To, long Epoch, long KeysCopied, long KeysDropped, double ElapsedMs, IReadOnlyList<string> NodesNotTold)
{
    /// <summary>Of <see cref="ElapsedMs"/>, the time spent reading the whole store log for the slot's keys (twice: to copy and to drop).</summary>
    public double ScanMs { get; init; }

    /// <summary>Of <see cref="ElapsedMs"/>, the time spent giving every local partition a new region, so one-sided readers refresh.</summary>
    public double RetireMs { get; init; }

    /// <summary>True when the target was a backup of the slot and the two swapped roles: nothing was copied or dropped.</summary>
    public bool HandedOver { get; init; }
}

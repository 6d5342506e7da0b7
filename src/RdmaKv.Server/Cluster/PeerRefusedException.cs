using RdmaKv.Core;

namespace RdmaKv.Server.Cluster;

/// <summary>Another node of the cluster answered a node-to-node request with a failure status.</summary>
public sealed class PeerRefusedException(StoreStatus status, string? detail = null)
    : Exception(StoreStatusText.Describe(status, detail))
{
    public StoreStatus Status { get; } = status;
}

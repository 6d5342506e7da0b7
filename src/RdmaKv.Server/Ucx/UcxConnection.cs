using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>A remote client's endpoint on the node, and the region generations it has been given.</summary>
sealed class UcxConnection(string peer, UcxEndpoint endpoint)
{
    public string Peer { get; } = peer;
    public UcxEndpoint Endpoint { get; } = endpoint;
    public bool Greeted;

    /// <summary>Its Hello presented the cluster credential: it may send node-to-node messages.</summary>
    public bool IsPeerNode;
    public readonly Dictionary<int, RegionRegistration> Held = [];

    /// <summary>Requests the listener's request threads answer in order (UcxNodeListener.Deferred.cs); the oldest stays until answered. Locked on itself.</summary>
    public readonly Queue<(ulong Id, RdmaKv.Protocol.Message Request)> Deferred = new();
}

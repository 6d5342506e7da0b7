using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>A remote client's endpoint on the node, and the region rkeys it has been given.</summary>
sealed class UcxConnection(string peer)
{
    public string Peer { get; } = peer;
    public nint Endpoint { get; set; }
    public UcpEndpointHandle? Handle { get; set; }
    public bool Greeted;
    public readonly Dictionary<int, RegionRegistration> Held = [];
}

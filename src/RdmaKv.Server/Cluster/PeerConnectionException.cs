namespace RdmaKv.Server.Cluster;

/// <summary>A node lost (or never had) its connection to another node of its cluster.</summary>
public sealed class PeerConnectionException(string message, Exception? inner = null) : IOException(message, inner);

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// A request that never left this client: its connection had failed (or closed) before UCX took
/// the message. The node cannot have applied it, unlike a request whose reply was lost.
/// </summary>
public sealed class UcxNotSentException(string message) : IOException(message);

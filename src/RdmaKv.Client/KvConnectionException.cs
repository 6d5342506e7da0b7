namespace RdmaKv.Client;

/// <summary>The client lost (or never had) its connection to a node.</summary>
public sealed class KvConnectionException(string message, Exception? inner = null) : IOException(message, inner)
{
    /// <summary>
    /// True when the request never left the client (connecting to the node failed), so it surely
    /// was not applied and may go to another node; otherwise it may have been applied.
    /// </summary>
    internal bool NotSent { get; init; }
}

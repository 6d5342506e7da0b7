namespace RdmaKv.Client;

/// <summary>The client lost (or never had) its connection to a node.</summary>
public sealed class KvConnectionException(string message, Exception? inner = null) : IOException(message, inner);

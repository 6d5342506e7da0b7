namespace RdmaKv.Storage;

/// <summary>
/// The store could not write its data directory (out of space, or another write error): the write
/// or checkpoint at hand is not durable. The node answers such writes with DiskFull and takes
/// writes again once a checkpoint succeeds.
/// </summary>
public sealed class DiskFullException(string message, Exception? inner = null) : IOException(message, inner);

using RdmaKv.Core;

namespace RdmaKv.Client;

/// <summary>A store operation failed with a status other than ok or not found.</summary>
public sealed class KvException(StoreStatus status, string? detail = null)
    : Exception(StoreStatusText.Describe(status, detail))
{
    /// <summary>Why the operation failed.</summary>
    public StoreStatus Status { get; } = status;
}

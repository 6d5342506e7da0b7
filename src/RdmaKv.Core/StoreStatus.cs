namespace RdmaKv.Core;

/// <summary>Outcome of a store operation. The numeric values travel on the wire: never renumber.</summary>
public enum StoreStatus : byte
{
    Ok = 0,
    NotFound = 1,
    KeyEmpty = 2,
    KeyTooLong = 3,
    ValueTooLong = 4,
    RegionFull = 5,
    BadRequest = 6,
    UnsupportedVersion = 7,
    Unauthorized = 8,
    ShuttingDown = 9,
    WrongSlot = 10,
    InternalError = 11,
    DiskFull = 12,

    /// <summary>A write's replication did not complete: its outcome is unknown (a backup may have applied it).</summary>
    Unavailable = 13,
}

/// <summary>Describes statuses for people.</summary>
public static class StoreStatusText
{
    public static string Describe(StoreStatus status) => status switch
    {
        StoreStatus.Ok => "ok",
        StoreStatus.NotFound => "not found",
        StoreStatus.KeyEmpty => "the key is empty",
        StoreStatus.KeyTooLong => $"the key is longer than {Limits.MaxKeyLength} bytes",
        StoreStatus.ValueTooLong => $"the value is longer than {Limits.MaxValueLength} bytes",
        StoreStatus.RegionFull => "the partition's region is full and cannot grow within the node's memory budget (--memory)",
        StoreStatus.BadRequest => "the request was malformed",
        StoreStatus.UnsupportedVersion => "the protocol version is not supported by this node",
        StoreStatus.Unauthorized => "the credential was missing or wrong",
        StoreStatus.ShuttingDown => "the node is shutting down",
        StoreStatus.WrongSlot => "the slot is not served by this node",
        StoreStatus.InternalError => "the node hit an internal error",
        StoreStatus.DiskFull => "the node's data directory is out of space: the write was not applied; retry once space is freed",
        StoreStatus.Unavailable => "a replica of the key's slot could not be reached or refused the write: it may have been applied there and may still take effect; retry it (the cluster's controller replaces a dead replica within the lease time)",
        _ => $"status {(byte)status}",
    };

    /// <summary>The status described, followed by what the node said about it when it said something.</summary>
    public static string Describe(StoreStatus status, string? detail) => detail is null ? Describe(status) : $"{Describe(status)}: {detail}";

    /// <summary>Checks a key and value against <see cref="Limits"/>; returns <see cref="StoreStatus.Ok"/> when they fit.</summary>
    public static StoreStatus Validate(int keyLength, int valueLength)
    {
        if (keyLength == 0) return StoreStatus.KeyEmpty;
        if (keyLength > Limits.MaxKeyLength) return StoreStatus.KeyTooLong;
        if (valueLength > Limits.MaxValueLength) return StoreStatus.ValueTooLong;
        return StoreStatus.Ok;
    }
}

namespace RdmaKv.Core;

/// <summary>
/// A 64-byte bucket, one cache line: a version word followed by 7 entries.
/// <code>
/// byte 0        8       16             56     64
///     +---------+-------+-- ... --------+-------+
///     | version | entry0 | entry1 .. entry5| entry6 |
///     +---------+-------+-- ... --------+-------+
/// </code>
/// The writer makes the version odd before it changes an entry and even after, so a reader that
/// sees the same even version twice knows the bucket did not change in between. A retired region
/// leaves every version odd for good.
/// </summary>
public static class Bucket
{
    public const int Size = 64;
    public const int EntryCount = 7;
    public const int VersionOffset = 0;

    public static int EntryOffset(int index) => IndexEntry.Size * (index + 1);
}

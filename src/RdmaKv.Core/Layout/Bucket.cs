namespace RdmaKv.Core;

/// <summary>
/// A 64-byte bucket, one cache line: a version word followed by 7 slots.
/// <code>
/// byte 0        8       16             56     64
///     +---------+-------+-- ... --------+-------+
///     | version | slot0 | slot1 .. slot5| slot6 |
///     +---------+-------+-- ... --------+-------+
/// </code>
/// The writer makes the version odd before it changes a slot and even after, so a reader that
/// sees the same even version twice knows the bucket did not change in between. A retired region
/// leaves every version odd for good.
/// </summary>
public static class Bucket
{
    public const int Size = 64;
    public const int SlotCount = 7;
    public const int VersionOffset = 0;

    public static int SlotOffset(int index) => Slot.Size * (index + 1);
}

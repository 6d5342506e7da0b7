using System.Runtime.InteropServices;

namespace RdmaKv.Transport;

/// <summary>
/// The few libc calls .NET has no API for: who owns a file (statx), an exclusive mkdir, the
/// effective uid and the umask. Each returns what libc returns; -1 sets the last P/Invoke error.
/// </summary>
static unsafe partial class UnixCalls
{
    const string Library = "libc";

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtEmptyPath = 0x1000;
    public const uint StatxBasicStats = 0x7ff;

    public const int ENOENT = 2;
    public const int EEXIST = 17;

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int directoryFd, string path, int flags, uint mask, out Statx buffer);

    [LibraryImport(Library, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "geteuid")]
    public static partial uint GetEffectiveUid();

    [LibraryImport(Library, EntryPoint = "umask")]
    public static partial uint Umask(uint mask);
}

/// <summary>
/// The head of the kernel's <c>struct statx</c> (linux/stat.h), the same on every architecture;
/// the rest (timestamps, device numbers) is kept as padding up to its 256 bytes.
/// </summary>
/// <remarks>
/// <code>
/// 0        4           8                16       20      24      28      30       32
/// | mask   | blksize   | attributes     | nlink  | uid   | gid   | mode  | spare  | ino ... 256
/// </code>
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Size)]
struct Statx
{
    public const int Size = 256;

    [FieldOffset(0)] public uint Mask;
    [FieldOffset(16)] public uint Links;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public uint Gid;
    [FieldOffset(28)] public ushort Mode;
}

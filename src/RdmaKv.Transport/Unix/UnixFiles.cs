using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RdmaKv.Transport;

/// <summary>What a path is, as <c>lstat</c> sees it: a symbolic link is itself, never its target.</summary>
public enum UnixFileKind
{
    Other,
    RegularFile,
    Directory,
    SymbolicLink,
    Socket,
}

/// <summary>Type, owner and permission bits of a file.</summary>
public readonly record struct UnixFileStatus(UnixFileKind Kind, uint Uid, uint Gid, UnixFileMode Mode, uint Links)
{
    /// <summary>Permission bits for the group and for everyone else.</summary>
    public const UnixFileMode GroupOrOthers = (UnixFileMode)0x3F; // 0077

    public const UnixFileMode Writable = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    public string Describe() => Kind switch
    {
        UnixFileKind.RegularFile => "a file",
        UnixFileKind.Directory => "a directory",
        UnixFileKind.SymbolicLink => "a symbolic link",
        UnixFileKind.Socket => "a socket",
        _ => "a special file",
    };
}

/// <summary>
/// Owner and type checks that never follow a symbolic link, an exclusive mkdir, and the process's
/// umask: what keeps a node's files out of other local users' reach.
/// </summary>
public static class UnixFiles
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The user this process acts as (0 for root).</summary>
    public static uint EffectiveUid { get; } = UnixCalls.GetEffectiveUid();

    /// <summary>What is at <paramref name="path"/> itself (lstat); false when nothing is.</summary>
    public static bool TryGetStatus(string path, out UnixFileStatus status) => TryStat(path, UnixCalls.AtSymlinkNoFollow, out status);

    /// <summary>What <paramref name="path"/> names after following links (stat); false when nothing is.</summary>
    public static bool TryGetTargetStatus(string path, out UnixFileStatus status) => TryStat(path, 0, out status);

    /// <summary>What an open file is (fstat): the file the handle holds, whatever its path names now.</summary>
    public static UnixFileStatus GetStatus(SafeFileHandle file)
    {
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            if (UnixCalls.Statx((int)file.DangerousGetHandle(), "", UnixCalls.AtEmptyPath, UnixCalls.StatxBasicStats, out var buffer) != 0)
                throw Failure("fstat", "an open file", Marshal.GetLastPInvokeError());
            return ToStatus(buffer);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> as a directory with exactly <paramref name="mode"/>; false,
    /// and nothing changed, when something (a directory, a file, a link) is already there.
    /// </summary>
    public static bool TryCreateDirectory(string path, UnixFileMode mode)
    {
        if (UnixCalls.Mkdir(path, (uint)mode) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == UnixCalls.EEXIST) return false;
            throw Failure("mkdir", path, errno);
        }
        File.SetUnixFileMode(path, mode); // mkdir's mode went through the umask
        return true;
    }

    /// <summary>Sets the process's umask and returns the one before (see umask(2)).</summary>
    public static UnixFileMode SetUmask(UnixFileMode mask) => (UnixFileMode)UnixCalls.Umask((uint)mask);

    /// <summary>A user's name and uid for a message, e.g. <c>nobody (uid 65534)</c>.</summary>
    public static string DescribeUser(uint uid)
    {
        try
        {
            foreach (string line in File.ReadLines("/etc/passwd"))
            {
                string[] fields = line.Split(':');
                if (fields.Length > 2 && fields[2] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    return $"{fields[0]} (uid {uid})";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return $"uid {uid}";
    }

    static bool TryStat(string path, int flags, out UnixFileStatus status)
    {
        if (UnixCalls.Statx(UnixCalls.AtFdCwd, path, flags, UnixCalls.StatxBasicStats, out var buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            status = default;
            if (errno == UnixCalls.ENOENT) return false;
            throw Failure("stat", path, errno);
        }
        status = ToStatus(buffer);
        return true;
    }

    static UnixFileStatus ToStatus(in Statx buffer)
    {
        var kind = (buffer.Mode & 0xF000) switch
        {
            0x8000 => UnixFileKind.RegularFile,
            0x4000 => UnixFileKind.Directory,
            0xA000 => UnixFileKind.SymbolicLink,
            0xC000 => UnixFileKind.Socket,
            _ => UnixFileKind.Other,
        };
        return new UnixFileStatus(kind, buffer.Uid, buffer.Gid, (UnixFileMode)(buffer.Mode & 0xFFF), buffer.Links);
    }

    static IOException Failure(string call, string path, int errno) =>
        new($"{call} of {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
}

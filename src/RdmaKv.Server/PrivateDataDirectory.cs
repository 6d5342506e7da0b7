using Microsoft.Extensions.Logging;
using RdmaKv.Transport;

namespace RdmaKv.Server;

/// <summary>
/// Keeps the data directory (the log, the store, checkpoints, seed, tokens, cluster map: every
/// value the node holds) to the node's user: the directory and its subdirectories 0700, files 0600.
/// </summary>
/// <remarks>
/// The node sets its process's umask to 077, as PostgreSQL does, so what FASTER creates (whose
/// file modes no option reaches) is private too. A directory from an earlier version, made
/// 0755/0644, is tightened at start, which the log says once. The admin token is left as it is:
/// the admin plane refuses one others could read, since it may have been read (rotate it).
/// </remarks>
static class PrivateDataDirectory
{
    public static void Prepare(string path, ILogger log)
    {
        UnixFiles.SetUmask(UnixFileStatus.GroupOrOthers);
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, UnixFiles.OwnerOnlyDirectory);
            return;
        }
        int tightened = 0;
        Tighten(Path.GetFullPath(path), ref tightened, top: true);
        if (tightened > 0)
        {
            log.LogWarning("Made {Count} files and directories in {Path} private to this user (0600 files, 0700 directories): an earlier version left them readable by every local user",
                tightened, Path.GetFullPath(path));
        }
    }

    /// <summary>Tightens <paramref name="path"/> and what is under it; a link is never followed (the data directory itself may be one).</summary>
    static void Tighten(string path, ref int tightened, bool top)
    {
        if (!(top ? UnixFiles.TryGetTargetStatus(path, out var status) : UnixFiles.TryGetStatus(path, out status))) return;
        if (status.Kind is not (UnixFileKind.Directory or UnixFileKind.RegularFile)) return;
        if (status.Kind == UnixFileKind.RegularFile && Path.GetFileName(path) == Admin.AdminToken.FileName) return;
        if ((status.Mode & UnixFileStatus.GroupOrOthers) != 0)
        {
            File.SetUnixFileMode(path, status.Mode & ~UnixFileStatus.GroupOrOthers); // 0755 -> 0700, 0644 -> 0600
            tightened++;
        }
        if (status.Kind != UnixFileKind.Directory) return;
        foreach (string entry in Directory.EnumerateFileSystemEntries(path))
            Tighten(entry, ref tightened, top: false);
    }
}

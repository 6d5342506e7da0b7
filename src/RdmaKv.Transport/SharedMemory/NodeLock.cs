namespace RdmaKv.Transport;

/// <summary>
/// Holds a node's name: an exclusive lock (flock) on the lock file in its directory for as long
/// as the node runs. A crashed node's lock goes with its process, so a restart takes the name back
/// and sweeps what the crashed node left.
/// </summary>
public sealed class NodeLock : IDisposable
{
    readonly FileStream _lock;
    readonly NodeDirectory _directory;

    NodeLock(NodeDirectory directory, FileStream lockFile)
    {
        _directory = directory;
        _lock = lockFile;
    }

    /// <summary>
    /// Claims the node's directory (see <see cref="NodeDirectory.Claim"/>), locks the name, and
    /// sweeps what a crashed node of this user left. No step follows a symbolic link.
    /// </summary>
    public static NodeLock Acquire(NodeDirectory directory)
    {
        directory.Claim();
        // The directory is this user's and mode 0700 now: only this user (or root) put anything
        // in it. A link at the lock's path is still removed rather than opened through.
        if (UnixFiles.TryGetStatus(directory.LockPath, out var existing) && existing.Kind != UnixFileKind.RegularFile)
            File.Delete(directory.LockPath);
        FileStream file;
        try
        {
            file = new FileStream(directory.LockPath, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None, // flock(LOCK_EX | LOCK_NB) on Unix
                UnixCreateMode = UnixFiles.OwnerOnlyFile,
            });
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"another node is already running with the name '{directory.Name}' (it holds {directory.LockPath}); " +
                "stop it or start this one with a different --name", e);
        }
        // What a crashed node left behind: stale region files and socket. Its clients may still map
        // the regions and read them: retire each before it goes, so that none of them reads a dead
        // node's values once this node accepts writes. Only a region file this user owns, with no
        // other name, is opened; everything else (links included) is only unlinked.
        foreach (string stale in Directory.EnumerateFiles(directory.Path))
        {
            if (stale == directory.LockPath || !UnixFiles.TryGetStatus(stale, out var status)) continue;
            if (stale.EndsWith(".region", StringComparison.Ordinal) && status is { Kind: UnixFileKind.RegularFile, Links: 1 } && status.Uid == UnixFiles.EffectiveUid)
                StaleRegionFile.Retire(stale);
            File.Delete(stale);
        }
        return new NodeLock(directory, file);
    }

    /// <summary>Removes the node's directory and releases the name.</summary>
    public void Dispose()
    {
        try
        {
            foreach (string file in Directory.EnumerateFiles(_directory.Path))
                if (file != _directory.LockPath) File.Delete(file);
            File.Delete(_directory.LockPath);
            Directory.Delete(_directory.Path);
        }
        catch (IOException)
        {
            // Best effort: a file a client still holds open is swept by the next start.
        }
        finally
        {
            _lock.Dispose();
        }
    }
}

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

    public static NodeLock Acquire(NodeDirectory directory)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(directory.Path, Private);
        // A directory left from before keeps its old mode; only the owner may read a node's memory.
        File.SetUnixFileMode(directory.Path, Private);
        FileStream file;
        try
        {
            file = new FileStream(directory.LockPath, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None, // flock(LOCK_EX | LOCK_NB) on Unix
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
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
        // node's values once this node accepts writes.
        foreach (string stale in Directory.EnumerateFiles(directory.Path))
        {
            if (stale == directory.LockPath) continue;
            if (stale.EndsWith(".region", StringComparison.Ordinal)) StaleRegionFile.Retire(stale);
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

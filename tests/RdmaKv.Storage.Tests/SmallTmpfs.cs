using System.Diagnostics;

namespace RdmaKv.Storage.Tests;

/// <summary>
/// A small tmpfs mounted for one test (the tests run as root), so that a node's data directory can
/// really run out of space. A filler file takes most of it; deleting the filler gives the space back.
/// Unmounted, and its mount point removed, on dispose.
/// </summary>
sealed class SmallTmpfs : IDisposable
{
    readonly string _mountPoint = Directory.CreateTempSubdirectory("rdmakv-tmpfs-").FullName;
    bool _mounted;

    public SmallTmpfs(int megabytes)
    {
        Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", _mountPoint);
        _mounted = true;
        DataDirectory = Path.Combine(_mountPoint, "data");
        Directory.CreateDirectory(DataDirectory);
    }

    /// <summary>The node's data directory, on the tmpfs.</summary>
    public string DataDirectory { get; }

    string FillerPath => Path.Combine(_mountPoint, "filler");

    /// <summary>Takes <paramref name="megabytes"/> of the tmpfs with a file of its own.</summary>
    public void Fill(int megabytes)
    {
        var chunk = new byte[1 << 20];
        Random.Shared.NextBytes(chunk);
        using var file = new FileStream(FillerPath, FileMode.Create, FileAccess.Write);
        for (int i = 0; i < megabytes; i++) file.Write(chunk);
    }

    /// <summary>Deletes the filler: its space is free again.</summary>
    public void Free() => File.Delete(FillerPath);

    public long AvailableBytes => new DriveInfo(_mountPoint).AvailableFreeSpace;

    public void Dispose()
    {
        if (_mounted)
        {
            // A lazy unmount as a last resort: a node process that has not quite exited must not
            // leave the mount behind.
            if (!TryRun("umount", _mountPoint)) TryRun("umount", "-l", _mountPoint);
            _mounted = false;
        }
        try
        {
            Directory.Delete(_mountPoint, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    static void Run(params string[] command)
    {
        if (!TryRun(command, out string error)) throw new InvalidOperationException($"{string.Join(' ', command)} failed: {error}");
    }

    static bool TryRun(params string[] command) => TryRun(command, out _);

    static bool TryRun(string[] command, out string error)
    {
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in command[1..]) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }
}

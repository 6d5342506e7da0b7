using System.Diagnostics;

namespace RdmaKv.Tests;

/// <summary>
/// A second local user for tests of what another user can do to a node's files: <c>nobody</c>
/// (uid 65534), which every Debian system has. Handing a path to it needs root, as in CI.
/// </summary>
public static class OtherUser
{
    public const uint Uid = 65534;
    public const string Name = "nobody";

    /// <summary>Makes <paramref name="path"/> (itself, not a link's target) belong to the other user.</summary>
    public static void Give(string path)
    {
        var info = new ProcessStartInfo("chown", ["-h", $"{Uid}:{Uid}", path]) { RedirectStandardError = true, UseShellExecute = false };
        using var chown = Process.Start(info) ?? throw new InvalidOperationException("could not start chown");
        string error = chown.StandardError.ReadToEnd();
        chown.WaitForExit();
        if (chown.ExitCode != 0)
            throw new InvalidOperationException($"chown of {path} to {Name} failed ({error.Trim()}): these tests need root, as in CI");
    }

    /// <summary>Makes a directory at <paramref name="path"/> the way another user would: theirs, mode 0777.</summary>
    public static void MakeDirectory(string path)
    {
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0x1FF);
        Give(path);
    }
}

using System.Diagnostics;
using System.Globalization;
using RdmaKv.Tests;

namespace RdmaKv.Transport.Tests;

/// <summary>
/// <see cref="UnixFiles"/> against coreutils' <c>stat</c>: the statx mirror reads owner, group,
/// mode, links and type at the kernel's offsets, and never follows a link when asked not to.
/// </summary>
public sealed class UnixFilesTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("rdmakv-unixfiles-").FullName;

    static string Stat(string format, string path)
    {
        var info = new ProcessStartInfo("stat", ["-c", format, path]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var stat = Process.Start(info)!;
        string output = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return output;
    }

    static void Run(string command, params string[] args)
    {
        using var process = Process.Start(command, args);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public void StatusAgreesWithStatForAFileWhoseOwnerGroupModeAndLinksAllDiffer()
    {
        string file = Path.Combine(_root, "file");
        File.WriteAllText(file, "x");
        Run("ln", file, Path.Combine(_root, "second-name"));
        File.SetUnixFileMode(file, (UnixFileMode)0x1E1); // 0741
        OtherUser.Give(file); // uid 65534 and gid 65534, then the group back to 0
        Run("chgrp", "0", file);

        Assert.True(UnixFiles.TryGetStatus(file, out var status));

        Assert.Equal(Stat("%u %g %a %h", file), string.Create(CultureInfo.InvariantCulture,
            $"{status.Uid} {status.Gid} {Convert.ToString((int)status.Mode, 8)} {status.Links}"));
        Assert.Equal((UnixFileKind.RegularFile, OtherUser.Uid, 0u, 2u), (status.Kind, status.Uid, status.Gid, status.Links));
    }

    [Fact]
    public void ALinkIsSeenAsALinkAndItsTargetOnlyWhenAskedFor()
    {
        string target = Path.Combine(_root, "dir"), link = Path.Combine(_root, "link");
        Directory.CreateDirectory(target);
        File.CreateSymbolicLink(link, target);

        Assert.True(UnixFiles.TryGetStatus(link, out var itself));
        Assert.True(UnixFiles.TryGetTargetStatus(link, out var followed));
        Assert.False(UnixFiles.TryGetStatus(Path.Combine(_root, "missing"), out _));

        Assert.Equal(UnixFileKind.SymbolicLink, itself.Kind);
        Assert.Equal(UnixFileKind.Directory, followed.Kind);
    }

    [Fact]
    public void AnExclusiveMkdirFailsOnAnythingAlreadyThereAndGivesTheExactMode()
    {
        string made = Path.Combine(_root, "made"), link = Path.Combine(_root, "dangling");
        File.CreateSymbolicLink(link, Path.Combine(_root, "nowhere"));

        Assert.True(UnixFiles.TryCreateDirectory(made, UnixFiles.OwnerOnlyDirectory));
        Assert.False(UnixFiles.TryCreateDirectory(made, UnixFiles.OwnerOnlyDirectory));
        Assert.False(UnixFiles.TryCreateDirectory(link, UnixFiles.OwnerOnlyDirectory));

        Assert.Equal("700", Stat("%a", made));
        Assert.False(Directory.Exists(Path.Combine(_root, "nowhere"))); // mkdir never went through the link
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

using System.Text.RegularExpressions;

namespace RdmaKv.Transport;

/// <summary>
/// Where a node named N keeps what local clients need: <c>/dev/shm/rdmakv-N/</c> with the
/// partition region files, the request socket and a lock that keeps a second node off the name.
/// The directory and everything in it are mode 0700/0600: only the node's user reads them.
/// </summary>
/// <remarks>
/// The root (<c>/dev/shm</c>) is writable by every user, so anyone can make <c>rdmakv-N</c> before
/// the node starts, as a directory of their own or as a symbolic link. The node therefore creates
/// it with an exclusive mkdir, or takes back only a directory its own user owns (one a crashed
/// node left), and clients accept only a directory owned by the user they expect. The root's
/// sticky bit keeps anyone but the owner from renaming or removing the directory once checked.
/// </remarks>
public sealed partial class NodeDirectory
{
    public const string DefaultRoot = "/dev/shm";

    public NodeDirectory(string name, string? root = null)
    {
        if (!IsValidName(name))
            throw new ArgumentException($"node name '{name}' is not valid: use 1 to 64 letters, digits, '.', '_' or '-'", nameof(name));
        Name = name;
        Root = root ?? Environment.GetEnvironmentVariable("RDMAKV_SHM_DIR") ?? (Directory.Exists(DefaultRoot) ? DefaultRoot : System.IO.Path.GetTempPath());
        Path = System.IO.Path.Combine(Root, "rdmakv-" + name);
    }

    public string Name { get; }
    public string Root { get; }
    public string Path { get; }
    public string SocketPath => System.IO.Path.Combine(Path, "node.sock");
    public string LockPath => System.IO.Path.Combine(Path, "node.lock");

    public string RegionPath(int partition, ulong generation) => System.IO.Path.Combine(Path, $"p{partition}-g{generation}.region");

    /// <summary>
    /// For the node: creates the directory (mode 0700), or takes back one this user left and
    /// tightens it to 0700. Refuses a path someone else owns, and a link or file in its place.
    /// </summary>
    public void Claim()
    {
        CheckRoot();
        for (int attempt = 1; ; attempt++)
        {
            if (UnixFiles.TryCreateDirectory(Path, UnixFiles.OwnerOnlyDirectory)) return;
            if (!UnixFiles.TryGetStatus(Path, out var status))
            {
                if (attempt < 3) continue; // removed between mkdir and lstat: try again
                throw new IOException($"{Path} appears and disappears while the node starts: another process is playing with it");
            }
            if (status.Kind != UnixFileKind.Directory)
            {
                throw new UnauthorizedAccessException(
                    $"{Path} is {status.Describe()}{LinkTarget(status)} owned by {UnixFiles.DescribeUser(status.Uid)}, not a directory this node made: " +
                    $"someone put it there, and the node will not follow it. Remove it and start again, or start with a different --name");
            }
            if (status.Uid != UnixFiles.EffectiveUid)
            {
                throw new UnauthorizedAccessException(
                    $"{Path} belongs to {UnixFiles.DescribeUser(status.Uid)}, not to this node's user {UnixFiles.DescribeUser(UnixFiles.EffectiveUid)}: " +
                    $"another user made it first, and whoever owns it could read and replace the node's memory. " +
                    $"Remove it (as root or as its owner) and start again, or start with a different --name");
            }
            if ((status.Mode & ~UnixFiles.OwnerOnlyDirectory) != 0) File.SetUnixFileMode(Path, UnixFiles.OwnerOnlyDirectory);
            return;
        }
    }

    /// <summary>
    /// For a client: the uid that owns the node's directory, when it is one the client trusts
    /// (<paramref name="expectedOwner"/>, else this process's user or root); null when there is no
    /// such directory. Throws <see cref="UnauthorizedAccessException"/> for a directory anyone else
    /// owns or could write, or a link in its place.
    /// </summary>
    public uint? VerifyOwner(uint? expectedOwner)
    {
        if (!UnixFiles.TryGetStatus(Path, out var status)) return null;
        CheckRoot(); // without the sticky bit, the checked directory could be swapped before the connect
        bool trusted = expectedOwner is { } expected ? status.Uid == expected : status.Uid == UnixFiles.EffectiveUid || status.Uid == 0;
        string expectation = expectedOwner is { } uid
            ? UnixFiles.DescribeUser(uid)
            : $"{UnixFiles.DescribeUser(UnixFiles.EffectiveUid)} or root";
        if (status.Kind != UnixFileKind.Directory)
            throw new UnauthorizedAccessException($"{Path} is {status.Describe()}{LinkTarget(status)}, not a node's directory: someone else put it there; the client will not follow it");
        if (!trusted)
        {
            throw new UnauthorizedAccessException(
                $"{Path} belongs to {UnixFiles.DescribeUser(status.Uid)}, but a node of {expectation} is expected: " +
                "its owner could serve forged values. If that user's node is the one you mean, set KvClientOptions.NodeOwner to its uid");
        }
        if ((status.Mode & UnixFileStatus.Writable) != 0)
            throw new UnauthorizedAccessException($"{Path} is writable by other users (mode {Octal(status.Mode)}): anyone could replace its socket or regions");
        if (UnixFiles.TryGetStatus(SocketPath, out var socket) && (socket.Kind != UnixFileKind.Socket || socket.Uid != status.Uid))
            throw new UnauthorizedAccessException($"{SocketPath} is {socket.Describe()} owned by {UnixFiles.DescribeUser(socket.Uid)}, not the socket of the directory's owner");
        return status.Uid;
    }

    void CheckRoot()
    {
        if (!UnixFiles.TryGetTargetStatus(Root, out var root)) throw new DirectoryNotFoundException($"the shared-memory directory {Root} does not exist");
        if ((root.Mode & UnixFileStatus.Writable) != 0 && (root.Mode & UnixFileMode.StickyBit) == 0)
        {
            throw new UnauthorizedAccessException(
                $"{Root} is writable by other users and has no sticky bit (mode {Octal(root.Mode)}): anyone could replace the node's directory in it. " +
                "Use a directory only this user can write (RDMAKV_SHM_DIR) or set its sticky bit (chmod +t)");
        }
    }

    string LinkTarget(UnixFileStatus status) =>
        status.Kind == UnixFileKind.SymbolicLink && new FileInfo(Path).LinkTarget is { } target ? $" to {target}" : "";

    static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

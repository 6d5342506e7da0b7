using System.Text.RegularExpressions;

namespace RdmaKv.Transport;

/// <summary>
/// Where a node named N keeps what local clients need: <c>/dev/shm/rdmakv-N/</c> with the
/// partition region files, the request socket and a lock that keeps a second node off the name.
/// The directory and everything in it are created mode 0700/0600: only the node's user reads them.
/// </summary>
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

    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

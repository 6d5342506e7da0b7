using System.IO.Hashing;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RdmaKv.Core.Cluster;

/// <summary>A storage node as the cluster file names it: its id, its UCX address and its admin plane.</summary>
public sealed record ClusterNode(string Id, string Ucx, string? Admin);

/// <summary>
/// Which node leads each of a fixed number of slots (its primary, or owner) and which nodes keep
/// a copy of it (its backups), with an epoch that grows whenever either changes. Keys hash to
/// slots with a seedless XxHash64, the same on every node and client (each node's own tables use
/// its secret seed to pick a local partition). Loaded from the cluster file or from etcd; nodes
/// hand it to clients, which route by it (to primaries only).
/// </summary>
public sealed class ClusterMap
{
    public const int MaxSlots = 65536;
    const int MaxNodes = 1024;

    /// <summary>Most copies of a slot (primary and backups) a map may ask for.</summary>
    public const int MaxReplicas = 5;

    readonly Dictionary<string, ClusterNode> _byId;
    readonly string[][] _backups;

    internal ClusterMap(long epoch, IReadOnlyList<ClusterNode> nodes, string[] owners, string[][]? backups = null, int replicas = 1,
        IReadOnlyDictionary<string, string>? incarnations = null)
    {
        Epoch = epoch;
        Nodes = nodes;
        Owners = owners;
        _byId = nodes.ToDictionary(n => n.Id, StringComparer.Ordinal);
        _backups = backups ?? [.. owners.Select(_ => Array.Empty<string>())];
        Replicas = replicas;
        Incarnations = incarnations ?? new Dictionary<string, string>(StringComparer.Ordinal);
    }

    public long Epoch { get; }
    public int SlotCount => Owners.Count;
    public IReadOnlyList<ClusterNode> Nodes { get; }

    /// <summary>Slot i's owner, its primary (a node id): the one node that serves its reads and orders its writes.</summary>
    public IReadOnlyList<string> Owners { get; }

    /// <summary>How many copies of each slot the cluster keeps (primary included): the controller restores it after a failure.</summary>
    public int Replicas { get; }

    /// <summary>
    /// The process run of each node the controller has taken in (node id to the incarnation it
    /// registered in etcd). A node serves only under a map naming its own incarnation, so a node
    /// that restarted stays out until its slots have been failed over. Empty without etcd.
    /// </summary>
    public IReadOnlyDictionary<string, string> Incarnations { get; }

    /// <summary>Slot i's backups, in the order they would be promoted: they apply every write before the primary acknowledges it.</summary>
    public IReadOnlyList<string> BackupsOf(int slot) => _backups[slot];

    /// <summary>True when <paramref name="node"/> is the primary or a backup of <paramref name="slot"/>.</summary>
    public bool Holds(int slot, string node) => Owners[slot] == node || Array.IndexOf(_backups[slot], node) >= 0;

    /// <summary>How many slots <paramref name="node"/> leads (is the primary of).</summary>
    public int LedBy(string node) => Owners.Count(o => o == node);

    /// <summary>How many slots have fewer copies (primary and backups) than <see cref="Replicas"/>.</summary>
    public int SlotsShortOfCopies => _backups.Count(b => 1 + b.Length < Replicas);

    /// <summary>How many slots <paramref name="node"/> backs.</summary>
    public int BackedBy(string node) => _backups.Count(b => Array.IndexOf(b, node) >= 0);

    /// <summary>A copy of this map to change; its <see cref="ClusterMapEdit.Build"/> gives the next epoch.</summary>
    public ClusterMapEdit Edit() => new(this, [.. Owners], [.. _backups.Select(b => b.ToList())], Replicas, new Dictionary<string, string>(Incarnations, StringComparer.Ordinal));

    public static int SlotOf(ReadOnlySpan<byte> key, int slots) => (int)(XxHash64.HashToUInt64(key) % (ulong)slots);

    public int SlotOf(ReadOnlySpan<byte> key) => SlotOf(key, SlotCount);

    public ClusterNode OwnerOf(ReadOnlySpan<byte> key) => _byId[Owners[SlotOf(key)]];

    public ClusterNode? Node(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The same map with <paramref name="slot"/> owned by <paramref name="node"/> and the epoch one higher.</summary>
    /// <remarks>A backup that becomes the owner stops being a backup; the old owner does not become one.</remarks>
    public ClusterMap WithOwner(int slot, string node)
    {
        if (!_byId.ContainsKey(node)) throw new ArgumentException($"node '{node}' is not in the cluster map", nameof(node));
        if ((uint)slot >= (uint)SlotCount) throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} is not between 0 and {SlotCount - 1}");
        var edit = Edit();
        edit.Backups[slot].Remove(node);
        edit.Owners[slot] = node;
        return edit.Build();
    }

    /// <summary>
    /// The same map with <paramref name="slot"/>'s primary and its backup <paramref name="backup"/>
    /// swapping roles (the old primary takes the backup's place in promotion order), the epoch one
    /// higher: a hand-over, which copies nothing since both hold every acknowledged write.
    /// </summary>
    public ClusterMap HandedOver(int slot, string backup)
    {
        if ((uint)slot >= (uint)SlotCount) throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} is not between 0 and {SlotCount - 1}");
        int at = Array.IndexOf(_backups[slot], backup);
        if (at < 0) throw new ArgumentException($"node '{backup}' is not a backup of slot {slot}", nameof(backup));
        var edit = Edit();
        edit.Backups[slot][at] = Owners[slot];
        edit.Owners[slot] = backup;
        return edit.Build();
    }

    public static ClusterMap Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"the cluster file {path} cannot be read: {e.Message}", e);
        }
        try
        {
            return Parse(text);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"the cluster file {path} is not valid: {e.Message}", e);
        }
    }

    /// <summary>Reads the cluster file's JSON (see README, Cluster); says exactly what is wrong when it cannot.</summary>
    public static ClusterMap Parse(string json)
    {
        ClusterFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, ClusterJson.Default.ClusterFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"it is not JSON of the expected shape ({e.Message})", e);
        }
        if (file is null) throw new InvalidDataException("it is empty");
        if (file.Epoch < 1) throw new InvalidDataException($"epoch {file.Epoch} must be at least 1");
        if (file.Slots is not null && file.Partitions is not null) throw new InvalidDataException("it gives both slots and partitions (the older name for slots); keep slots");
        int slots = file.Slots ?? file.Partitions ?? ClusterFile.DefaultSlots;
        if (slots is < 1 or > MaxSlots) throw new InvalidDataException($"slots {slots} must be between 1 and {MaxSlots}");
        var nodes = file.Nodes ?? [];
        if (nodes.Count is 0 or > MaxNodes) throw new InvalidDataException($"it lists {nodes.Count} nodes; it needs 1 to {MaxNodes}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in nodes)
        {
            if (string.IsNullOrWhiteSpace(n.Id) || n.Id.Length > 64) throw new InvalidDataException("every node needs an id of 1 to 64 characters");
            if (!seen.Add(n.Id)) throw new InvalidDataException($"node id '{n.Id}' appears twice");
            if (!TrySplitAddress(n.Ucx, out _, out _)) throw new InvalidDataException($"node '{n.Id}' has ucx address '{n.Ucx}'; it must be HOST:PORT");
            if (n.Admin is not null && !IsAdminUrl(n.Admin)) throw new InvalidDataException($"node '{n.Id}' has admin URL '{n.Admin}'; it must be an absolute http or https URL");
        }
        string[] owners;
        if (file.Owners is null)
        {
            owners = new string[slots];
            for (int p = 0; p < owners.Length; p++) owners[p] = nodes[(int)((long)p * nodes.Count / owners.Length)].Id;
        }
        else
        {
            if (file.Owners.Count != slots) throw new InvalidDataException($"owners lists {file.Owners.Count} slots; slots says {slots}");
            var unknown = file.Owners.FirstOrDefault(o => !seen.Contains(o));
            if (unknown is not null) throw new InvalidDataException($"owners names node '{unknown}', which is not in nodes");
            owners = [.. file.Owners];
        }
        int replicas = file.Replicas ?? (file.Backups?.Max(b => b.Count + 1) ?? 1);
        if (replicas < 1 || replicas > MaxReplicas || replicas > nodes.Count)
            throw new InvalidDataException($"replicas {replicas} must be between 1 and {Math.Min(MaxReplicas, nodes.Count)} (the number of nodes, at most {MaxReplicas})");
        string[][] backups;
        if (file.Backups is null) backups = Place(owners, nodes.Select(n => n.Id).ToArray(), replicas);
        else
        {
            if (file.Backups.Count != slots) throw new InvalidDataException($"backups lists {file.Backups.Count} slots; slots says {slots}");
            backups = new string[slots][];
            for (int p = 0; p < slots; p++)
            {
                var list = file.Backups[p] ?? [];
                if (list.Count >= replicas) throw new InvalidDataException($"slot {p} has {list.Count} backups; replicas {replicas} allows {replicas - 1}");
                foreach (string b in list)
                {
                    if (!seen.Contains(b)) throw new InvalidDataException($"backups of slot {p} name node '{b}', which is not in nodes");
                    if (b == owners[p]) throw new InvalidDataException($"node '{b}' is both the owner and a backup of slot {p}");
                }
                if (list.Distinct(StringComparer.Ordinal).Count() != list.Count) throw new InvalidDataException($"backups of slot {p} name a node twice");
                backups[p] = [.. list];
            }
        }
        var incarnations = file.Incarnations ?? [];
        var stranger = incarnations.Keys.FirstOrDefault(k => !seen.Contains(k));
        if (stranger is not null) throw new InvalidDataException($"incarnations names node '{stranger}', which is not in nodes");
        return new ClusterMap(file.Epoch, [.. nodes.Select(n => new ClusterNode(n.Id, n.Ucx, n.Admin))], owners, backups, replicas,
            new Dictionary<string, string>(incarnations, StringComparer.Ordinal));
    }

    /// <summary>Backups for a new map: the R − 1 nodes after each slot's owner, in the nodes' order.</summary>
    static string[][] Place(string[] owners, string[] nodes, int replicas)
    {
        var backups = new string[owners.Length][];
        for (int p = 0; p < owners.Length; p++)
        {
            int first = Array.IndexOf(nodes, owners[p]);
            backups[p] = [.. Enumerable.Range(1, replicas - 1).Select(i => nodes[(first + i) % nodes.Length])];
        }
        return backups;
    }

    /// <summary>The same slots with <paramref name="replicas"/> copies each (backups placed after each owner), at the same epoch: for a new cluster.</summary>
    public ClusterMap WithReplicas(int replicas)
    {
        if (replicas < 1 || replicas > MaxReplicas || replicas > Nodes.Count)
            throw new ArgumentOutOfRangeException(nameof(replicas), $"replicas {replicas} must be between 1 and {Math.Min(MaxReplicas, Nodes.Count)} (the number of nodes, at most {MaxReplicas})");
        return new ClusterMap(Epoch, Nodes, [.. Owners], Place([.. Owners], [.. Nodes.Select(n => n.Id)], replicas), replicas, Incarnations);
    }

    /// <summary>The map as the cluster file's JSON, with every owner listed.</summary>
    public string ToJson() => JsonSerializer.Serialize(new ClusterFile
    {
        Epoch = Epoch,
        Slots = SlotCount,
        Nodes = [.. Nodes.Select(n => new ClusterFileNode { Id = n.Id, Ucx = n.Ucx, Admin = n.Admin })],
        Owners = [.. Owners],
        Replicas = Replicas == 1 ? null : Replicas,
        // With replicas, always written: left out, they would be placed anew on reading (a new cluster's default).
        Backups = Replicas == 1 ? null : [.. _backups.Select(b => b.ToList())],
        Incarnations = Incarnations.Count == 0 ? null : new Dictionary<string, string>(Incarnations, StringComparer.Ordinal),
    }, ClusterJson.Default.ClusterFile);

    /// <summary>
    /// Epochs grow by one per move; a node that missed some maps is behind by the moves it missed.
    /// A map further ahead than this is refused: no operator makes a million moves between two
    /// maps a node sees, and a near-maximal epoch would overflow the next move's epoch + 1.
    /// </summary>
    public const long MaxEpochStep = 1_000_000;

    /// <summary>
    /// Null when <paramref name="next"/> may replace this map; otherwise why not. A successor has
    /// a newer epoch (at most <see cref="MaxEpochStep"/> ahead), the same slot count and the same
    /// nodes with the same addresses: maps move slots, they do not change membership.
    /// </summary>
    public string? SuccessorProblem(ClusterMap next)
    {
        if (next.Epoch <= Epoch) return $"the map's epoch {next.Epoch} is not newer than this node's {Epoch}";
        if (next.Epoch - Epoch > MaxEpochStep) return $"the map's epoch {next.Epoch} is more than {MaxEpochStep} ahead of this node's {Epoch}";
        if (next.SlotCount != SlotCount) return $"the map has {next.SlotCount} slots; this cluster has {SlotCount}";
        foreach (var node in next.Nodes)
        {
            if (Node(node.Id) is not { } known) return $"the map names node '{node.Id}', which is not in this node's map";
            if (known != node) return $"the map gives node '{node.Id}' ucx '{node.Ucx}' and admin '{node.Admin}'; this node's map says ucx '{known.Ucx}' and admin '{known.Admin}'";
        }
        if (next.Nodes.Count != Nodes.Count)
            return $"the map lists {next.Nodes.Count} nodes; this node's map lists {Nodes.Count} ({string.Join(", ", Nodes.Select(n => n.Id))})";
        return null;
    }

    /// <summary>Admin URLs are links on the dashboard and addresses nodes call: absolute http or https only.</summary>
    public static bool IsAdminUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    public static bool TrySplitAddress(string? address, out string host, out int port)
    {
        host = "";
        port = 0;
        if (address is null) return false;
        int colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535) return false;
        host = address[..colon];
        return true;
    }
}

sealed class ClusterFile
{
    public long Epoch { get; set; } = 1;
    public const int DefaultSlots = 256;

    public int? Slots { get; set; }

    /// <summary>The older name of <see cref="Slots"/>, still read so that maps saved before the rename load.</summary>
    public int? Partitions { get; set; }
    public List<ClusterFileNode>? Nodes { get; set; }
    public List<string>? Owners { get; set; }

    /// <summary>Copies of each slot, primary included (1 when absent: no backups).</summary>
    public int? Replicas { get; set; }

    /// <summary>Each slot's backups; placed after each owner when absent.</summary>
    public List<List<string>>? Backups { get; set; }
    public Dictionary<string, string>? Incarnations { get; set; }
}

sealed class ClusterFileNode
{
    public string Id { get; set; } = "";
    public string Ucx { get; set; } = "";
    public string? Admin { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClusterFile))]
sealed partial class ClusterJson : JsonSerializerContext;

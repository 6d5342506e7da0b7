namespace RdmaKv.Core.Cluster;

/// <summary>
/// A cluster map being changed: owners, backups and incarnations to set, then <see cref="Build"/>
/// for the map of the next epoch (checked as <see cref="ClusterMap.Parse"/> checks a file, so a
/// controller's mistake cannot reach the nodes). Nodes and slot count never change.
/// </summary>
public sealed class ClusterMapEdit
{
    readonly ClusterMap _from;

    internal ClusterMapEdit(ClusterMap from, string[] owners, List<string>[] backups, int replicas, Dictionary<string, string> incarnations)
    {
        _from = from;
        Owners = owners;
        Backups = backups;
        Replicas = replicas;
        Incarnations = incarnations;
    }

    public string[] Owners { get; }
    public List<string>[] Backups { get; }
    public int Replicas { get; set; }
    public Dictionary<string, string> Incarnations { get; }

    /// <summary>Makes <paramref name="node"/> a backup of <paramref name="slot"/>, last in promotion order (nothing when it already holds the slot).</summary>
    public void AddBackup(int slot, string node)
    {
        if (Owners[slot] != node && !Backups[slot].Contains(node)) Backups[slot].Add(node);
    }

    /// <summary>The map of the next epoch; throws <see cref="InvalidDataException"/> when the edit broke a rule.</summary>
    public ClusterMap Build()
    {
        var ids = _from.Nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        if (Replicas < 1 || Replicas > ClusterMap.MaxReplicas || Replicas > ids.Count)
            throw new InvalidDataException($"replicas {Replicas} must be between 1 and {Math.Min(ClusterMap.MaxReplicas, ids.Count)}");
        for (int p = 0; p < Owners.Length; p++)
        {
            if (!ids.Contains(Owners[p])) throw new InvalidDataException($"slot {p}'s owner '{Owners[p]}' is not in the map");
            var backups = Backups[p];
            if (backups.Count >= Replicas) throw new InvalidDataException($"slot {p} has {backups.Count} backups; replicas {Replicas} allows {Replicas - 1}");
            if (backups.Contains(Owners[p])) throw new InvalidDataException($"node '{Owners[p]}' is both the owner and a backup of slot {p}");
            if (backups.Distinct(StringComparer.Ordinal).Count() != backups.Count) throw new InvalidDataException($"backups of slot {p} name a node twice");
            var stranger = backups.FirstOrDefault(b => !ids.Contains(b));
            if (stranger is not null) throw new InvalidDataException($"backups of slot {p} name node '{stranger}', which is not in the map");
        }
        var unknown = Incarnations.Keys.FirstOrDefault(k => !ids.Contains(k));
        if (unknown is not null) throw new InvalidDataException($"incarnations name node '{unknown}', which is not in the map");
        return new ClusterMap(checked(_from.Epoch + 1), _from.Nodes, [.. Owners], [.. Backups.Select(b => b.ToArray())], Replicas,
            new Dictionary<string, string>(Incarnations, StringComparer.Ordinal));
    }
}

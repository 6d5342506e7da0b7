namespace RdmaKv.Core.Cluster;

/// <summary>What the controller is to do about nodes that died or restarted: see <see cref="Failover.Plan"/>.</summary>
/// <param name="Next">The map to store (next epoch), or null when nothing changes.</param>
/// <param name="Fences">(backup, old primary): each backup must refuse the old primary before <see cref="Next"/> is stored, and the controller then waits one lease.</param>
/// <param name="Promoted">Slot to its new primary.</param>
/// <param name="Unavailable">Slots whose primary is gone with no live backup: left as they are, reported.</param>
public sealed record FailoverPlan(ClusterMap? Next, IReadOnlyList<(string Backup, string Primary)> Fences, IReadOnlyDictionary<int, string> Promoted, IReadOnlyList<int> Unavailable);

/// <summary>A primary that is to copy slots to a node that then backs them.</summary>
public sealed record Rereplication(string Primary, string Target, int[] Slots);

/// <summary>
/// The controller's decisions, as pure functions of the map and the live members (node id to the
/// incarnation each registered), so they can be tested without a cluster.
/// </summary>
public static class Failover
{
    /// <summary>
    /// A node that has joined (its incarnation is in the map) is gone when its lease expired (not
    /// live) or when it registered a new incarnation
    /// (it restarted, and its recovered data may lack what it acknowledged). Each slot a gone node
    /// led goes to its first live backup; gone nodes stop backing slots; restarted and new nodes
    /// get their incarnation recorded (they then serve, leading nothing they lost). A slot whose
    /// copies are all gone keeps its map entry: its primary, should it restart, is the only copy
    /// left, and is taken back as it is.
    /// </summary>
    public static FailoverPlan Plan(ClusterMap map, IReadOnlyDictionary<string, string> live)
    {
        var dead = new HashSet<string>(StringComparer.Ordinal);
        var restarted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in map.Nodes)
        {
            // A node that never joined (a cluster just made, a node not started yet) is not failed
            // over: its slots wait for it. Once it has joined, losing its lease is dying.
            if (!map.Incarnations.TryGetValue(node.Id, out string? known)) continue;
            if (!live.TryGetValue(node.Id, out string? run)) dead.Add(node.Id);
            else if (known != run) restarted.Add(node.Id);
        }
        bool Gone(string id) => dead.Contains(id) || restarted.Contains(id);

        var edit = map.Edit();
        bool changed = false;
        var fences = new List<(string, string)>();
        var promoted = new Dictionary<int, string>();
        var unavailable = new List<int>();
        for (int slot = 0; slot < map.SlotCount; slot++)
        {
            string owner = map.Owners[slot];
            var backups = edit.Backups[slot];
            if (Gone(owner))
            {
                string? next = backups.FirstOrDefault(b => !Gone(b));
                if (next is null)
                {
                    unavailable.Add(slot);
                    // Its primary restarted with the only copy: it keeps the slot. Dead backups still go.
                    changed |= backups.RemoveAll(Gone) > 0;
                    continue;
                }
                // A primary whose lease expired may still be running, cut off: its backups refuse it first.
                if (dead.Contains(owner))
                    foreach (string b in backups.Where(b => !Gone(b)))
                        if (!fences.Contains((b, owner))) fences.Add((b, owner));
                edit.Owners[slot] = next;
                promoted[slot] = next;
                backups.Remove(next);
                backups.RemoveAll(Gone);
                changed = true;
            }
            else changed |= backups.RemoveAll(Gone) > 0;
        }
        foreach (var (id, run) in live)
        {
            if (map.Node(id) is null || edit.Incarnations.GetValueOrDefault(id) == run) continue;
            edit.Incarnations[id] = run;
            changed = true;
        }
        return new FailoverPlan(changed ? edit.Build() : null, fences, promoted, unavailable);
    }

    /// <summary>
    /// For each slot with fewer copies than the map's replicas and a live primary, the live nodes
    /// that hold the fewest copies and not this slot's, grouped by primary and target. Call it on a
    /// map that <see cref="Plan"/> leaves unchanged.
    /// </summary>
    public static IReadOnlyList<Rereplication> Rereplicate(ClusterMap map, IReadOnlyDictionary<string, string> live)
    {
        bool Serving(string id) => live.TryGetValue(id, out string? run) && map.Incarnations.GetValueOrDefault(id, run) == run;
        var holdings = map.Nodes.Where(n => Serving(n.Id)).ToDictionary(n => n.Id, _ => 0, StringComparer.Ordinal);
        for (int slot = 0; slot < map.SlotCount; slot++)
        {
            if (holdings.ContainsKey(map.Owners[slot])) holdings[map.Owners[slot]]++;
            foreach (string b in map.BackupsOf(slot))
                if (holdings.ContainsKey(b)) holdings[b]++;
        }
        var groups = new Dictionary<(string, string), List<int>>();
        for (int slot = 0; slot < map.SlotCount; slot++)
        {
            string owner = map.Owners[slot];
            int missing = map.Replicas - 1 - map.BackupsOf(slot).Count;
            if (missing <= 0 || !Serving(owner)) continue;
            var targets = holdings.Keys.Where(id => !map.Holds(slot, id))
                .OrderBy(id => holdings[id]).ThenBy(id => id, StringComparer.Ordinal).Take(missing).ToList();
            foreach (string target in targets)
            {
                holdings[target]++;
                if (!groups.TryGetValue((owner, target), out var slots)) groups[(owner, target)] = slots = [];
                slots.Add(slot);
            }
        }
        return [.. groups.Select(g => new Rereplication(g.Key.Item1, g.Key.Item2, [.. g.Value]))];
    }
}

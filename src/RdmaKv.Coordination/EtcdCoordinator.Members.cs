using Etcdserverpb;
using Microsoft.Extensions.Logging;

namespace RdmaKv.Coordination;

public sealed partial class EtcdCoordinator
{
    readonly string _memberPayload;
    readonly string _membersPrefix;
    readonly string _memberKey;
    Dictionary<string, string> _members = new(StringComparer.Ordinal);
    long _registeredLease;

    /// <summary>The ids of the nodes whose member key exists: their lease is alive.</summary>
    public IReadOnlyCollection<string> LiveMembers
    {
        get
        {
            lock (_gate) return [.. _members.Keys];
        }
    }

    /// <summary>Each live member's payload (what it registered with), by node id; a copy.</summary>
    public IReadOnlyDictionary<string, string> Members
    {
        get
        {
            lock (_gate) return new Dictionary<string, string>(_members, StringComparer.Ordinal);
        }
    }

    /// <summary>Raised when a member appears, goes or re-registers with another payload; carries the live ids.</summary>
    public event Action<IReadOnlyCollection<string>>? MembersChanged;

    /// <summary>Puts this node's member key under the current lease.</summary>
    async Task RegisterAsync(CancellationToken cancel)
    {
        long lease = _lease.LeaseId;
        if (lease == 0) return;
        await _channel.Kv.PutAsync(new PutRequest { Key = Utf8(_memberKey), Value = Utf8(_memberPayload), Lease = lease },
            deadline: DateTime.UtcNow + _options.RequestTimeout, cancellationToken: cancel);
        if (Interlocked.Exchange(ref _registeredLease, lease) is var previous && previous != 0 && previous != lease)
            _log.LogInformation("etcd: node {Node} registered again, under lease {Lease:x}", NodeId, lease);
    }

    void SetMembers(Dictionary<string, string> members)
    {
        bool changed;
        lock (_gate)
        {
            changed = members.Count != _members.Count || members.Any(m => !_members.TryGetValue(m.Key, out var p) || p != m.Value);
            _members = members;
            if (!members.ContainsKey(NodeId)) Interlocked.Exchange(ref _registeredLease, 0);
        }
        if (changed) RaiseMembersChanged();
    }

    void OnMemberEvent(string id, string? payload)
    {
        lock (_gate)
        {
            var next = new Dictionary<string, string>(_members, StringComparer.Ordinal);
            if (payload is null) next.Remove(id);
            else next[id] = payload;
            _members = next;
            // Someone removed this node's key while its lease lives: the next renewal puts it back.
            if (payload is null && id == NodeId) Interlocked.Exchange(ref _registeredLease, 0);
        }
        RaiseMembersChanged();
    }

    void RaiseMembersChanged()
    {
        var live = LiveMembers;
        Raise(() => MembersChanged?.Invoke(live), nameof(MembersChanged));
    }
}

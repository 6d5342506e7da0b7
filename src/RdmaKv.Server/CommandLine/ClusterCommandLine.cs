using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Server;

/// <summary>
/// The server's cluster options: --cluster FILE or --etcd URLS, --node-id ID, --lease-ttl,
/// --lease-margin, --replication-timeout, --client-token-file PATH, --cluster-token-file PATH,
/// --admin-token-file PATH. In a
/// cluster the node listens on its own ucx address and admin URL from the file unless --listen or
/// --admin-urls say otherwise.
/// </summary>
sealed class ClusterCommandLine
{
    readonly Option<string?> _cluster = new("--cluster") { Description = "the cluster file (JSON: epoch, slots, nodes with id, ucx and admin); see README, Cluster" };
    readonly Option<string?> _nodeId = new("--node-id") { Description = "which node of the cluster (file or etcd map) this is" };
    readonly Option<string?> _etcd = new("--etcd") { Description = "etcd endpoints (URL[,URL...]) holding the cluster's map and membership: replication and automatic failover; seed the map once with 'rdmakv cluster init FILE --etcd URL'" };
    readonly Option<double?> _leaseTtl = new("--lease-ttl") { Description = "seconds a node may be silent before it is failed over (etcd lease; also the backups' read leases); default 2; the same on every node" };
    readonly Option<double?> _leaseMargin = new("--lease-margin") { Description = "milliseconds before its leases could expire that a primary stops serving; default 500" };
    readonly Option<double?> _replicationTimeout = new("--replication-timeout") { Description = "milliseconds a primary waits for a backup to apply a write; default 1000" };
    readonly Option<string?> _tokenFile = new("--client-token-file") { Description = "remote clients' token file (made when missing); default DATA_DIR/client-token; a cluster's nodes share one" };
    readonly Option<string?> _clusterTokenFile = new("--cluster-token-file") { Description = "the cluster credential's file for node-to-node messages (made when missing); default DATA_DIR/cluster-token; every node of a cluster shares one, never the client token" };
    readonly Option<string?> _adminTokenFile = new("--admin-token-file") { Description = "admin token file (made when missing); default DATA_DIR/admin-token; a cluster's nodes may share one" };

    public static ClusterCommandLine AddTo(RootCommand root)
    {
        var options = new ClusterCommandLine();
        root.Options.Add(options._cluster);
        root.Options.Add(options._nodeId);
        root.Options.Add(options._etcd);
        root.Options.Add(options._leaseTtl);
        root.Options.Add(options._leaseMargin);
        root.Options.Add(options._replicationTimeout);
        root.Options.Add(options._tokenFile);
        root.Options.Add(options._clusterTokenFile);
        root.Options.Add(options._adminTokenFile);
        return options;
    }

    /// <summary>Applies the options; false with a message when the file or the id does not hold.</summary>
    public bool TryApply(ParseResult parse, bool listenGiven, bool adminGiven, ref StorageNodeOptions options, out string? error)
    {
        error = null;
        options = options with
        {
            ClusterFile = parse.GetValue(_cluster),
            NodeId = parse.GetValue(_nodeId),
            ClientTokenFile = parse.GetValue(_tokenFile),
            ClusterTokenFile = parse.GetValue(_clusterTokenFile),
            AdminTokenFile = parse.GetValue(_adminTokenFile),
            Etcd = parse.GetValue(_etcd),
        };
        if (parse.GetValue(_leaseTtl) is { } ttl) options = options with { LeaseTtl = TimeSpan.FromSeconds(ttl) };
        if (parse.GetValue(_leaseMargin) is { } margin) options = options with { LeaseMargin = TimeSpan.FromMilliseconds(margin) };
        if (parse.GetValue(_replicationTimeout) is { } timeout) options = options with { ReplicationTimeout = TimeSpan.FromMilliseconds(timeout) };
        if (options.ClusterFile is null) return true;
        ClusterMap map;
        try
        {
            map = ClusterMap.Load(options.ClusterFile);
        }
        catch (InvalidDataException e)
        {
            error = e.Message;
            return false;
        }
        var me = options.NodeId is null ? null : map.Node(options.NodeId);
        if (me is null)
        {
            error = $"--node-id '{options.NodeId}' is not one of the nodes in {options.ClusterFile} ({string.Join(", ", map.Nodes.Select(n => n.Id))})";
            return false;
        }
        if (!listenGiven)
        {
            ClusterMap.TrySplitAddress(me.Ucx, out string host, out int port);
            var address = IPAddress.TryParse(host, out var ip) ? ip
                : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
            if (address is null)
            {
                error = $"node {me.Id}'s ucx host '{host}' does not resolve to an IPv4 address; pass --listen";
                return false;
            }
            options = options with { Listen = $"{address}:{port}" };
        }
        if (!adminGiven && me.Admin is not null) options = options with { AdminUrls = me.Admin };
        return true;
    }
}

using System.CommandLine;
using RdmaKv.Coordination;
using RdmaKv.Core.Cluster;

namespace RdmaKv.Cli;

/// <summary>
/// <c>rdmakv cluster init FILE --etcd URL[,URL...]</c>: seeds a new cluster's map in etcd from a
/// cluster file. It writes only where no map is stored, so it never overwrites a running cluster's
/// map: from then on etcd holds the map, and the file is not read again.
/// </summary>
static class ClusterInit
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "the cluster file (see README, Cluster)" };
        var etcd = new Option<string>("--etcd") { Description = "etcd's client URLs: http://HOST:PORT[,http://HOST:PORT...]", Required = true };
        var prefix = new Option<string>("--etcd-prefix") { Description = "the key prefix the cluster uses in etcd", DefaultValueFactory = _ => "/rdmakv/" };
        var replicas = new Option<int?>("--replicas") { Description = "copies of every slot, on different nodes (default: the file's \"replicas\", else 2 when there are at least two nodes)" };
        var init = new Command("init", "store a cluster file as a new cluster's map in etcd, unless etcd already holds one") { file, etcd, prefix, replicas };
        init.SetAction(p => Run(p.GetValue(file)!, p.GetValue(etcd)!, p.GetValue(prefix)!, p.GetValue(replicas)));
        return init;
    }

    static int Run(FileInfo file, string etcdFlag, string prefix, int? replicas)
    {
        ClusterMap map;
        string[] endpoints;
        try
        {
            map = ClusterMap.Load(file.FullName);
            if ((replicas ?? (NamesReplicas(file) ? map.Replicas : Math.Min(2, map.Nodes.Count))) is var copies && copies != map.Replicas)
                map = map.WithReplicas(copies);
            endpoints = EtcdOptions.ParseEndpoints(etcdFlag);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            Console.Error.WriteLine($"rdmakv: {e.Message}");
            return 2;
        }
        try
        {
            using var store = EtcdMapStore.Open(endpoints, prefix);
            if (store.TryInitMap(map))
            {
                Console.WriteLine($"stored the cluster map from {file.Name} in etcd at {store.Key}: epoch {map.Epoch}, {map.SlotCount} slots, {map.Nodes.Count} nodes, {map.Replicas} {(map.Replicas == 1 ? "copy" : "copies")} of every slot");
                return 0;
            }
            string epoch;
            try
            {
                epoch = store.ReadMap().Map is { } held ? $"epoch {held.Epoch}" : "a map that has just gone";
            }
            catch (InvalidDataException e)
            {
                epoch = $"a value that is not a map ({e.Message})";
            }
            Console.Error.WriteLine($"rdmakv: etcd already holds a cluster map at {store.Key} ({epoch}); it was left as it is. Change it with 'rdmakv cluster move' or 'rebalance', or use another --etcd-prefix for a new cluster");
            return 2;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"rdmakv: {e.Message}");
            return 2;
        }
        catch (CoordinationException e)
        {
            Console.Error.WriteLine($"rdmakv: {e.Message}");
            return 3;
        }
    }

    /// <summary>True when the file says how many copies it wants (ClusterMap.Load reads an absent "replicas" as 1).</summary>
    static bool NamesReplicas(FileInfo file)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(file.FullName));
        return doc.RootElement.TryGetProperty("replicas", out _);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace RdmaKv.Resp;

/// <summary>
/// INFO's text in Redis's format ("# Section" headers, "name:value" lines, CRLF): server,
/// clients, stats (Redis's names, then the node's own counters as rdmakv_*), replication and
/// keyspace.
/// </summary>
public static class RespInfo
{
    /// <summary>The Redis version the gateway answers as: the command set and replies follow Redis 7.0.</summary>
    public const string RedisVersion = "7.0.0";

    static readonly string[] DefaultSections = ["server", "clients", "stats", "replication", "keyspace"];

    public static string Render(IReadOnlyList<string> asked, IRespStore store, RespCounters counters, int port)
    {
        var wanted = asked.Count == 0 || asked.Any(a => a.ToLowerInvariant() is "all" or "default" or "everything")
            ? DefaultSections
            : [.. asked.Select(a => a.ToLowerInvariant())];
        var text = new StringBuilder();
        foreach (string section in DefaultSections)
        {
            if (!wanted.Contains(section)) continue;
            if (text.Length > 0) text.Append("\r\n");
            switch (section)
            {
                case "server": Server(text, store, counters, port); break;
                case "clients": Clients(text, counters); break;
                case "stats": Stats(text, store, counters); break;
                case "replication": text.Append("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"); break;
                case "keyspace": Keyspace(text, store); break;
            }
        }
        return text.ToString();
    }

    static void Line(StringBuilder text, string name, object value) =>
        text.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");

    static void Server(StringBuilder text, IRespStore store, RespCounters counters, int port)
    {
        long uptime = (long)Stopwatch.GetElapsedTime(counters.StartedAt).TotalSeconds;
        text.Append("# Server\r\n");
        Line(text, "redis_version", RedisVersion);
        Line(text, "rdmakv_version", typeof(RespInfo).Assembly.GetName().Version?.ToString() ?? "0");
        Line(text, "rdmakv_node", store.Name);
        Line(text, "redis_mode", "standalone");
        Line(text, "os", RuntimeInformation.OSDescription);
        Line(text, "arch_bits", IntPtr.Size * 8);
        Line(text, "process_id", Environment.ProcessId);
        Line(text, "tcp_port", port);
        Line(text, "uptime_in_seconds", uptime);
        Line(text, "uptime_in_days", uptime / 86400);
    }

    static void Clients(StringBuilder text, RespCounters counters)
    {
        text.Append("# Clients\r\n");
        Line(text, "connected_clients", Volatile.Read(ref counters.ConnectionsOpen));
    }

    static void Stats(StringBuilder text, IRespStore store, RespCounters counters)
    {
        text.Append("# Stats\r\n");
        Line(text, "total_connections_received", Volatile.Read(ref counters.ConnectionsTotal));
        Line(text, "total_commands_processed", Volatile.Read(ref counters.Commands));
        Line(text, "total_net_input_bytes", Volatile.Read(ref counters.BytesIn));
        Line(text, "rejected_connections", 0);
        Line(text, "expired_keys", 0);
        Line(text, "evicted_keys", 0);
        Line(text, "keyspace_hits", Volatile.Read(ref counters.KeyspaceHits));
        Line(text, "keyspace_misses", Volatile.Read(ref counters.KeyspaceMisses));
        Line(text, "total_error_replies", Volatile.Read(ref counters.ErrorReplies));
        Line(text, "rdmakv_protocol_errors", Volatile.Read(ref counters.ProtocolErrors));
        foreach (var (name, value) in store.Stats().OrderBy(s => s.Key, StringComparer.Ordinal))
            Line(text, "rdmakv_" + name, value);
    }

    /// <summary>As Redis, a database without keys is not listed.</summary>
    static void Keyspace(StringBuilder text, IRespStore store)
    {
        text.Append("# Keyspace\r\n");
        long keys = store.KeyCount;
        if (keys > 0) text.Append("db0:keys=").Append(keys.ToString(CultureInfo.InvariantCulture)).Append(",expires=0,avg_ttl=0\r\n");
    }
}

using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>The node's remote side as the command line sets it up: <c>--listen HOST:PORT</c> or <c>none</c>.</summary>
public static class RemoteAccess
{
    public static Option<string> AddTo(RootCommand root, StorageNodeOptions defaults)
    {
        var listen = new Option<string>("--listen")
        {
            Description = "where remote clients connect over UCX (ucx://HOST:PORT), IPv4 HOST:PORT, or 'none'",
            DefaultValueFactory = _ => defaults.Listen,
        };
        root.Options.Add(listen);
        return listen;
    }

    public static Option<string> AddReadsTo(RootCommand root)
    {
        var reads = new Option<string>("--remote-reads")
        {
            Description = "how remote clients READ: one-sided (rkeys; only where the NIC checks them: InfiniBand, RoCE), "
                + "messages (the node checks and serves each READ; no rkey leaves it), or auto (one-sided with an RDMA device and a verbs UCX_TLS, else messages)",
            DefaultValueFactory = _ => "auto",
        };
        reads.AcceptOnlyFromAmong("auto", "one-sided", "messages");
        root.Options.Add(reads);
        return reads;
    }

    public static bool TryParse(string text, out IPEndPoint? endPoint, out string? error)
    {
        endPoint = null;
        error = null;
        if (text == "none") return true;
        if (IPEndPoint.TryParse(text, out var parsed) && parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && text.Contains(':'))
        {
            endPoint = parsed;
            return true;
        }
        error = $"--listen '{text}' is not an IPv4 HOST:PORT (e.g. 127.0.0.1:7400, 0.0.0.0:7400) or 'none'; port 0 picks a free port";
        return false;
    }

    /// <summary>
    /// Starts the UCX listener, or returns null when remote access is off or UCX is not installed
    /// (the node then serves local clients only and says what to install). Throws
    /// <see cref="IOException"/> when the address cannot be listened on.
    /// </summary>
    public static UcxNodeListener? Start(StorageNode node, IPEndPoint? endPoint, ILogger log)
    {
        if (endPoint is null) return null;
        if (!UcxEnvironment.IsAvailable(out string? problem))
        {
            log.LogWarning("remote access is off: {Problem}. Local clients (local:{Name}) are served.", problem, node.Options.Name);
            return null;
        }
        string tokenPath = node.Options.ClientTokenFile ?? Path.Combine(node.Options.DataDirectory, ClientTokenFile.FileName);
        string token = ClientTokenFile.LoadOrCreate(tokenPath, out bool created);
        var listener = UcxNodeListener.Start(node, endPoint, token, log);
        log.LogInformation("remote clients connect with ucx://{EndPoint} and the token in {TokenPath}{Created} (UCX_TLS={Tls}, UCX_NET_DEVICES={Devices}, remote reads {Reads})",
            listener.EndPoint, tokenPath, created ? ", made now" : "", UcxEnvironment.Get("UCX_TLS") ?? "(UCX default)", UcxEnvironment.Get("UCX_NET_DEVICES") ?? "(UCX default)",
            RemoteReadPaths.Name(listener.Reads));
        return listener;
    }
}

using System.Net;
using Microsoft.Extensions.Logging;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Server.Ucx;

/// <summary>Starts the node's remote side (UCX) where the options say, or says why it is off.</summary>
public static class RemoteAccess
{
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

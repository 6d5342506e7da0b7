using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace RdmaKv.Server;

/// <summary>
/// Turns "Cannot assign requested address" (EADDRNOTAVAIL: the address to listen on is not one
/// of this host's) into what it means for the operator: which node should run where, and the
/// addresses this host has.
/// </summary>
static class HostAddresses
{
    /// <summary>True when <paramref name="e"/>, or what it wraps, is a bind to an address this host does not have.</summary>
    public static bool NotHere(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException { SocketErrorCode: SocketError.AddressNotAvailable }) return true;
            if (x.Message.Contains("Cannot assign requested address", StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>One line: the address is not this host's, which node that means, and this host's addresses.</summary>
    public static string Explain(string what, string host, StorageNodeOptions options)
    {
        string node = options.NodeId is { } id
            ? $"{options.ClusterFile} puts node {id} there, so no node {id} runs here: start it on the host that has {host}, or give --listen and --admin-urls"
            : "give --listen or --admin-urls an address of this host";
        return $"{what}: {host} is not an address of this host (it has {string.Join(", ", Local())}); {node}";
    }

    static IEnumerable<string> Local()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork)
                .Select(a => a.Address.ToString()).Distinct().ToList();
        }
        catch (NetworkInformationException)
        {
            return ["(its addresses could not be read)"];
        }
    }
}

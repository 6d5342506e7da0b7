namespace RdmaKv.Server.Ucx;

/// <summary>How remote clients READ a node's regions.</summary>
public enum RemoteReadPath
{
    /// <summary><see cref="OneSided"/> where the NIC enforces memory keys (an RDMA device and UCX allowed to use it), else <see cref="Messages"/>.</summary>
    Auto,

    /// <summary>
    /// One-sided READs with an rkey per region (ucp_get). On InfiniBand and RoCE the NIC serves
    /// them without the node's CPU and checks the key. Over tcp, UCX emulates them on the node:
    /// any peer could read any address, and a READ meeting a failed endpoint aborts the node.
    /// </summary>
    OneSided,

    /// <summary>READs as messages the node checks (partition, generation, bounds) and answers; no rkey leaves the node.</summary>
    Messages,
}

public static class RemoteReadPaths
{
    /// <summary>UCX transports on which a remote key is checked by the NIC.</summary>
    static readonly string[] Verbs = ["rc", "ud", "dc", "ib", "rc_v", "rc_x", "rc_mlx5", "ud_v", "ud_x", "ud_mlx5", "dc_x", "dc_mlx5", "all"];

    public static bool TryParse(string text, out RemoteReadPath path)
    {
        path = text switch
        {
            "auto" => RemoteReadPath.Auto,
            "one-sided" => RemoteReadPath.OneSided,
            "messages" => RemoteReadPath.Messages,
            _ => (RemoteReadPath)(-1),
        };
        return path >= 0;
    }

    public static string Name(RemoteReadPath path) => path switch
    {
        RemoteReadPath.OneSided => "one-sided",
        RemoteReadPath.Messages => "messages",
        _ => "auto",
    };

    /// <summary>
    /// Settles <see cref="RemoteReadPath.Auto"/>: one-sided when this host has an RDMA device
    /// (<paramref name="rdmaDevices"/>, /sys/class/infiniband) and <paramref name="ucxTls"/>
    /// (UCX_TLS) is unset or names a verbs transport; messages otherwise.
    /// </summary>
    public static RemoteReadPath Resolve(RemoteReadPath path, string? ucxTls, string rdmaDevices = "/sys/class/infiniband")
    {
        if (path != RemoteReadPath.Auto) return path;
        bool device = Directory.Exists(rdmaDevices) && Directory.EnumerateFileSystemEntries(rdmaDevices).Any();
        if (!device) return RemoteReadPath.Messages;
        if (string.IsNullOrWhiteSpace(ucxTls)) return RemoteReadPath.OneSided;
        var named = ucxTls.TrimStart('^').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        bool verbs = ucxTls.StartsWith('^') || named.Any(t => Verbs.Contains(t, StringComparer.OrdinalIgnoreCase));
        return verbs ? RemoteReadPath.OneSided : RemoteReadPath.Messages;
    }
}

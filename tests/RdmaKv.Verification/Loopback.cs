using System.Runtime.CompilerServices;
using RdmaKv.Transport.Ucx;

namespace RdmaKv.Verification;

/// <summary>UCX over tcp on loopback for this process and the nodes it starts, unless the environment says otherwise.</summary>
static class Loopback
{
    [ModuleInitializer]
    internal static void Use()
    {
        foreach (var (name, value) in new[] { ("UCX_TLS", "tcp"), ("UCX_NET_DEVICES", "lo") })
        {
            UcxEnvironment.SetDefault(name, value);
            if (Environment.GetEnvironmentVariable(name) is null) Environment.SetEnvironmentVariable(name, value);
        }
    }
}

using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using RdmaKv.Transport.Ucx.Native;

namespace RdmaKv.Transport.Ucx;

/// <summary>
/// Process-wide UCX settings made before UCX is loaded. UCX reads its UCX_* variables from
/// the native environment, which <see cref="Environment.SetEnvironmentVariable(string, string)"/>
/// does not reach, so this uses libc's setenv. Variables the user has set are left alone. libucs
/// reads its global options (error signals, memory hooks) once, in its library constructor, when
/// the process first loads it, and keeps them (it is never unloaded): whatever loads UCX
/// (<see cref="IsAvailable"/>, <see cref="UcxWorker.Start"/>) calls <see cref="Prepare"/> first.
/// </summary>
public static unsafe class UcxEnvironment
{
    static readonly Lock Gate = new();
    static bool s_prepared;

    public static void Prepare()
    {
        lock (Gate)
        {
            if (s_prepared) return;
            // UCX's SIGSEGV/SIGBUS handlers would turn a managed NullReferenceException into an abort.
            SetDefault("UCX_ERROR_SIGNALS", "");
            // UCX's default memory hooks rewrite the code of libc's mmap, munmap, madvise, brk and
            // mremap in place when libucs loads (bistro mode), while the runtime's threads (the GC
            // among them) may be inside those functions: such a thread returns into half-written
            // code and the process dies without a word. Nodes died so under reconnecting clients.
            SetDefault("UCX_MEM_MMAP_HOOK_MODE", "none");
            s_prepared = true;
        }
    }

    /// <summary>
    /// Makes UCX use, of the network devices, only the interface that holds
    /// <paramref name="address"/> and the RDMA ports in <paramref name="rdmaDevices"/>
    /// (UCX_NET_DEVICES), unless the user set UCX_NET_DEVICES. UCX's tcp transport opens a
    /// listening socket on every device it uses, so without this a node told to listen on
    /// 127.0.0.1 listens on every interface as well. An unspecified address (0.0.0.0), or one no
    /// interface holds, leaves UCX's default. Returns what UCX_NET_DEVICES is now, or null.
    /// </summary>
    public static string? ConfineNetworkDevicesTo(IPAddress address, string rdmaDevices = "/sys/class/infiniband")
    {
        if (Get("UCX_NET_DEVICES") is { } set) return set;
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return null;
        var device = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n =>
            (IPAddress.IsLoopback(address) && n.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            || n.GetIPProperties().UnicastAddresses.Any(u => u.Address.Equals(address)));
        if (device is null) return null;
        // RDMA ports open no TCP listener; keeping them keeps one-sided READs where the NIC checks keys.
        var ports = Directory.Exists(rdmaDevices)
            ? Directory.GetDirectories(rdmaDevices).SelectMany(d => Directory.Exists(Path.Combine(d, "ports"))
                ? Directory.GetDirectories(Path.Combine(d, "ports")).Select(p => $"{Path.GetFileName(d)}:{Path.GetFileName(p)}")
                : [])
            : [];
        string devices = string.Join(',', new[] { device.Name }.Concat(ports.Order(StringComparer.Ordinal)));
        SetDefault("UCX_NET_DEVICES", devices);
        return devices;
    }

    /// <summary>The value UCX will see, or null.</summary>
    public static string? Get(string name)
    {
        byte[] n = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = n)
        {
            byte* v = Ucp.GetEnv(p);
            return v == null ? null : new string((sbyte*)v);
        }
    }

    /// <summary>Sets a UCX variable in the native environment unless the user already set it.</summary>
    public static void SetDefault(string name, string value) => SetNative(name, value, overwrite: 0);

    /// <summary>Sets a UCX variable in the native environment for contexts created from now on.</summary>
    public static void Set(string name, string value) => SetNative(name, value, overwrite: 1);

    static void SetNative(string name, string value, int overwrite)
    {
        byte[] n = Encoding.ASCII.GetBytes(name + "\0");
        byte[] v = Encoding.ASCII.GetBytes(value + "\0");
        fixed (byte* pn = n)
        fixed (byte* pv = v)
        {
            if (Ucp.SetEnv(pn, pv, overwrite) != 0)
                throw new InvalidOperationException($"setenv {name} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>Whether libucp can be loaded; the message says what to install when not.</summary>
    public static bool IsAvailable(out string? problem)
    {
        Prepare(); // loading libucp loads libucs, which reads its options then
        if (System.Runtime.InteropServices.NativeLibrary.TryLoad(Ucp.Library, out var handle))
        {
            System.Runtime.InteropServices.NativeLibrary.Free(handle);
            problem = null;
            return true;
        }
        problem = $"{Ucp.Library} is not installed: remote clients (ucx://) need UCX; install it with 'apt-get install -y libucx0'";
        return false;
    }
}

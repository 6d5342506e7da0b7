using System.Net;
using System.Net.Sockets;

namespace RdmaKv.Transport.Ucx.Native;

/// <summary>IPv4 socket addresses to and from what UCX takes and gives.</summary>
static unsafe class SockAddr
{
    public static SockAddrIn From(IPEndPoint endPoint)
    {
        var sa = new SockAddrIn { Family = (ushort)AddressFamily.InterNetwork, Port = (ushort)IPAddress.HostToNetworkOrder((short)endPoint.Port) };
        endPoint.Address.TryWriteBytes(new Span<byte>(&sa.Address, 4), out _);
        return sa;
    }

    public static int PortOf(nint sockaddr) => (ushort)IPAddress.NetworkToHostOrder(*(short*)(sockaddr + 2));

    /// <summary>"IP:PORT" of an IPv4 sockaddr, or null for another family.</summary>
    public static string? Describe(nint sockaddr)
    {
        if (*(ushort*)sockaddr != (ushort)AddressFamily.InterNetwork) return null;
        var ip = new IPAddress(new ReadOnlySpan<byte>((byte*)sockaddr + 4, 4));
        return $"{ip}:{PortOf(sockaddr)}";
    }
}

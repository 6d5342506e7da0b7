using System.Net.Sockets;

namespace RdmaKv.Transport.Tests;

/// <summary>A connected pair of Unix stream sockets in a fresh temporary directory.</summary>
sealed class SocketPair : IDisposable
{
    public SocketPair()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("rdmakv-transport-").FullName;
        string path = Path.Combine(Directory, "s.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        Client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        Client.Connect(new UnixDomainSocketEndPoint(path));
        Node = listener.Accept();
    }

    public string Directory { get; }
    public Socket Client { get; }
    public Socket Node { get; }

    public void Dispose()
    {
        Client.Dispose();
        Node.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

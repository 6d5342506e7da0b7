namespace RdmaKv.Server;

/// <summary>One way clients reach a node: the local socket and mailboxes, UCX, and later others (a RESP gateway).</summary>
public interface INodeListener : IDisposable
{
    /// <summary>"local", "ucx", ...</summary>
    string Transport { get; }

    /// <summary>What a client connects to: <c>local:NAME</c>, <c>ucx://HOST:PORT</c>.</summary>
    string Address { get; }
}

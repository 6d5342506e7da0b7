namespace RdmaKv.Server;

/// <summary>One way clients reach a node: the local socket and mailboxes, UCX, and later others (a RESP gateway).</summary>
public interface INodeListener : IDisposable
{
    /// <summary>"local", "ucx", ...</summary>
    string Transport { get; }

    /// <summary>What a client connects to: <c>local:NAME</c>, <c>ucx://HOST:PORT</c>.</summary>
    string Address { get; }

    /// <summary>
    /// Whether it takes clients now, for <c>/health/ready</c>. A listener that can tell (UCX: its
    /// accept loop and progress thread run) says so; the default claims it while it exists.
    /// </summary>
    Admin.ReadinessCheck Readiness => new($"{Transport} transport", true, $"listening on {Address}");
}

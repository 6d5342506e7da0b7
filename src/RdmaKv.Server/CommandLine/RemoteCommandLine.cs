using System.CommandLine;
using System.Net;
using RdmaKv.Server.Ucx;

namespace RdmaKv.Server;

/// <summary>Remote access's options: --listen and --remote-reads.</summary>
sealed class RemoteCommandLine
{
    static readonly StorageNodeOptions Defaults = new();

    readonly Option<string> _listen = new("--listen")
    {
        Description = "where remote clients connect over UCX (ucx://HOST:PORT), IPv4 HOST:PORT, or 'none'",
        DefaultValueFactory = _ => Defaults.Listen,
    };

    readonly Option<string> _reads = CreateReads();

    static Option<string> CreateReads()
    {
        var reads = new Option<string>("--remote-reads")
        {
            Description = "how remote clients READ: one-sided (rkeys; only where the NIC checks them: InfiniBand, RoCE), "
                + "messages (the node checks and serves each READ; no rkey leaves it), or auto (one-sided with an RDMA device and a verbs UCX_TLS, else messages)",
            DefaultValueFactory = _ => "auto",
        };
        reads.AcceptOnlyFromAmong("auto", "one-sided", "messages");
        return reads;
    }

    public static RemoteCommandLine AddTo(RootCommand root)
    {
        var options = new RemoteCommandLine();
        root.Options.Add(options._listen);
        root.Options.Add(options._reads);
        return options;
    }

    /// <summary>The operator named the UCX address: failing to listen there stops the start.</summary>
    public bool Named(ParseResult parse) => parse.GetResult(_listen) is { Implicit: false };

    public StorageNodeOptions Apply(ParseResult parse, StorageNodeOptions options)
    {
        RemoteReadPaths.TryParse(parse.GetValue(_reads)!, out var readPath); // the option accepts only the three names
        return options with { Listen = parse.GetValue(_listen)!, RemoteReads = readPath };
    }

    /// <summary>Where UCX listens (null for 'none'); false with a message for the user when the address is not valid.</summary>
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
}

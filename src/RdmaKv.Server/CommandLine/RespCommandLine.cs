using System.CommandLine;
using System.Net;

namespace RdmaKv.Server;

/// <summary>The RESP gateway's option: --resp [HOST:]PORT, off when not given.</summary>
sealed class RespCommandLine
{
    readonly Option<string?> _resp = new("--resp")
    {
        Description = "serve RESP (redis-cli, Redis client libraries) at HOST:PORT, or at PORT on 127.0.0.1; off when not given (docs/resp.md)",
    };

    public static RespCommandLine AddTo(RootCommand root)
    {
        var options = new RespCommandLine();
        root.Options.Add(options._resp);
        return options;
    }

    /// <summary>Where the gateway listens (null when off); false with a message for the user when the address is not valid.</summary>
    public bool TryGet(ParseResult parse, out IPEndPoint? endPoint, out string? error) => TryParse(parse.GetValue(_resp), out endPoint, out error);

    public static bool TryParse(string? text, out IPEndPoint? endPoint, out string? error)
    {
        endPoint = null;
        error = null;
        if (text is null) return true;
        string withHost = text.StartsWith(':') ? "127.0.0.1" + text : text.Contains(':') ? text : "127.0.0.1:" + text;
        if (IPEndPoint.TryParse(withHost, out var parsed) && parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            endPoint = parsed;
            return true;
        }
        error = $"--resp '{text}' is not an IPv4 HOST:PORT or a PORT (e.g. 6380 for 127.0.0.1:6380, 0.0.0.0:6380)";
        return false;
    }
}

using System.Text;
using RdmaKv.Core;

namespace RdmaKv.Resp;

/// <summary>
/// One client connection's state (protocol, authentication, name) and the commands it runs,
/// each answered into the connection's <see cref="RespWriter"/> in the order they came.
/// </summary>
public sealed partial class RespSession(long id, IRespStore store, RespWriter writer, RespCounters counters, int port)
{
    const string NoAuth = "NOAUTH Authentication required.";
    const string WrongPass = "WRONGPASS invalid username-password pair or user is disabled.";

    public long Id { get; } = id;
    public string? Name { get; private set; }
    public bool Authenticated { get; private set; }

    /// <summary>Set by QUIT: the connection closes once the replies before it are written.</summary>
    public bool Closing { get; private set; }

    public RespWriter Writer { get; } = writer;

    /// <summary>Runs one command (it has at least its name) and writes its reply.</summary>
    public void Execute(RespCommand command)
    {
        Interlocked.Increment(ref counters.Commands);
        if (!RespCommandTable.TryFind(command[0], out var entry))
        {
            Error(UnknownCommand(command));
            return;
        }
        if (!Authenticated && !entry.BeforeAuth)
        {
            Error(NoAuth);
            return;
        }
        if (!RespCommandTable.ArityFits(entry, command.Count))
        {
            Error($"ERR wrong number of arguments for '{entry.Name.ToLowerInvariant()}' command");
            return;
        }
        entry.Run(this, command);
    }

    /// <summary>Redis's form: the name, then the first arguments quoted, 128 characters at most.</summary>
    static string UnknownCommand(RespCommand command)
    {
        var text = new StringBuilder();
        for (int i = 1; i < command.Count && text.Length < 128; i++)
        {
            string argument = command.Text(i);
            text.Append('\'').Append(argument.AsSpan(0, Math.Min(argument.Length, 128 - text.Length))).Append("' ");
        }
        string name = command.Text(0);
        return $"ERR unknown command '{(name.Length > 128 ? name[..128] : name)}', with args beginning with: {text}";
    }

    void Error(string text)
    {
        Interlocked.Increment(ref counters.ErrorReplies);
        Writer.Error(text);
    }

    /// <summary>A store's refusal as an error reply; WrongSlot (the slot moved while the request waited) as MOVED.</summary>
    void StoreError(StoreStatus status, ReadOnlySpan<byte> key)
    {
        if (status == StoreStatus.WrongSlot && store.Redirect(key, out int slot) is { } host)
            Error($"MOVED {slot} {host}:{port}");
        else
            Error($"ERR {StoreStatusText.Describe(status)}");
    }

    internal void Ping(RespCommand command)
    {
        if (command.Count > 2) Error("ERR wrong number of arguments for 'ping' command");
        else if (command.Count == 2) Writer.Bulk(command[1]);
        else Writer.SimpleString("PONG");
    }

    internal void Echo(RespCommand command) => Writer.Bulk(command[1]);

    internal void Quit()
    {
        Writer.Ok();
        Closing = true;
    }

    internal void Auth(RespCommand command)
    {
        if (command.Count > 3)
        {
            Error("ERR syntax error");
            return;
        }
        // AUTH token, or AUTH default token: the node has one user, Redis's "default".
        if (command.Count == 3 && !command.Is(1, "default"))
        {
            Error(WrongPass);
            return;
        }
        if (!store.Authenticate(command[command.Count - 1]))
        {
            Error(WrongPass);
            return;
        }
        Authenticated = true;
        Writer.Ok();
    }

    /// <summary>HELLO [protover [AUTH user token] [SETNAME name]]: switches RESP2/RESP3 and answers who the server is.</summary>
    internal void Hello(RespCommand command)
    {
        int protocol = Writer.Protocol;
        if (command.Count >= 2)
        {
            if (!long.TryParse(command.Text(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long asked))
            {
                Error("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (asked is not (2 or 3))
            {
                Error("NOPROTO unsupported protocol version");
                return;
            }
            protocol = (int)asked;
        }
        bool authenticated = Authenticated;
        string? name = Name;
        for (int i = 2; i < command.Count; i++)
        {
            if (command.Is(i, "AUTH") && i + 2 < command.Count)
            {
                if (!command.Is(i + 1, "default") || !store.Authenticate(command[i + 2]))
                {
                    Error(WrongPass);
                    return;
                }
                authenticated = true;
                i += 2;
            }
            else if (command.Is(i, "SETNAME") && i + 1 < command.Count)
            {
                name = command.Text(++i);
                if (!ValidName(name))
                {
                    Error("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            }
            else
            {
                Error($"ERR Syntax error in HELLO option '{command.Text(i)}'");
                return;
            }
        }
        if (!authenticated)
        {
            Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        Authenticated = true;
        Name = name;
        Writer.Protocol = protocol;
        Writer.MapHeader(7);
        Writer.Bulk("server");
        Writer.Bulk("redis");
        Writer.Bulk("version");
        Writer.Bulk(RespInfo.RedisVersion);
        Writer.Bulk("proto");
        Writer.Integer(protocol);
        Writer.Bulk("id");
        Writer.Integer(Id);
        Writer.Bulk("mode");
        Writer.Bulk("standalone");
        Writer.Bulk("role");
        Writer.Bulk("master");
        Writer.Bulk("modules");
        Writer.ArrayHeader(0);
    }

    internal void Select(RespCommand command)
    {
        if (command.Text(1) == "0") Writer.Ok();
        else Error("ERR DB index is out of range (RdmaKv has one database, 0)");
    }

    static bool ValidName(string name)
    {
        foreach (char c in name)
            if (c is < '!' or > '~') return false;
        return true;
    }
}

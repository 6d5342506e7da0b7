namespace RdmaKv.Resp;

/// <summary>The commands about the connection and the server: CLIENT, COMMAND, CONFIG, INFO, DBSIZE, CLUSTER.</summary>
public sealed partial class RespSession
{
    internal void Client(RespCommand command)
    {
        if (command.Is(1, "SETNAME") && command.Count == 3)
        {
            string name = command.Text(2);
            if (!ValidName(name))
            {
                Error("ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            Name = name.Length == 0 ? null : name;
            Writer.Ok();
        }
        else if (command.Is(1, "GETNAME") && command.Count == 2)
        {
            if (Name is null) Writer.Null();
            else Writer.Bulk(Name);
        }
        else if (command.Is(1, "SETINFO") && command.Count == 4) Writer.Ok(); // library name and version: nothing to keep them for
        else if (command.Is(1, "ID") && command.Count == 2) Writer.Integer(Id);
        else if (command.Is(1, "INFO") && command.Count == 2) Writer.Bulk($"id={Id} name={Name} db=0 resp={Writer.Protocol}\n");
        else Error($"ERR unknown subcommand or wrong number of arguments for '{command.Text(1)}'. Try CLIENT HELP.");
    }

    /// <summary>
    /// COMMAND answers what clients need to connect: COUNT and LIST are real, the bare command and
    /// DOCS give no documentation (an empty array and map), INFO a null per name.
    /// </summary>
    internal void CommandInfo(RespCommand command)
    {
        if (command.Count == 1) Writer.ArrayHeader(0);
        else if (command.Is(1, "COUNT")) Writer.Integer(RespCommandTable.Count);
        else if (command.Is(1, "LIST"))
        {
            var names = RespCommandTable.Names.ToList();
            Writer.ArrayHeader(names.Count);
            foreach (string name in names) Writer.Bulk(name);
        }
        else if (command.Is(1, "DOCS")) Writer.MapHeader(0);
        else if (command.Is(1, "INFO"))
        {
            Writer.ArrayHeader(command.Count - 2);
            for (int i = 2; i < command.Count; i++) Writer.Null();
        }
        else Error($"ERR unknown subcommand '{command.Text(1)}'. Try COMMAND HELP.");
    }

    /// <summary>CONFIG GET answers an empty map (the node's settings are its command-line options); anything else is refused.</summary>
    internal void Config(RespCommand command)
    {
        if (command.Is(1, "GET") && command.Count >= 3) Writer.MapHeader(0);
        else Error($"ERR CONFIG {command.Text(1).ToUpperInvariant()} is not supported by RdmaKv: a node is configured by its command-line options (rdmakv-server --help)");
    }

    internal void Info(RespCommand command)
    {
        var sections = new List<string>();
        for (int i = 1; i < command.Count; i++) sections.Add(command.Text(i));
        Writer.Bulk(RespInfo.Render(sections, store, counters, port));
    }

    internal void DbSize() => Writer.Integer(store.KeyCount);

    /// <summary>
    /// CLUSTER KEYSLOT gives RdmaKv's slot of a key. Everything else is refused: a cluster-aware
    /// Redis client computes CRC16(key) mod 16384 itself, and RdmaKv's slots are XxHash64(key) mod
    /// its own slot count, so no CLUSTER SLOTS or SHARDS answer could make such a client route right.
    /// </summary>
    internal void Cluster(RespCommand command)
    {
        if (store.SlotCount is not { } slots)
        {
            Error("ERR This instance has cluster support disabled");
            return;
        }
        if (command.Is(1, "KEYSLOT") && command.Count == 3)
        {
            store.Redirect(command[2], out int slot);
            Writer.Integer(slot);
            return;
        }
        Error($"ERR CLUSTER {command.Text(1).ToUpperInvariant()} is not served: RdmaKv hashes keys with XxHash64 into {slots} slots, not CRC16 into 16384, "
            + "so cluster-mode Redis clients cannot route by themselves. Connect in standalone mode; a key of another node gets -MOVED slot host:port");
    }
}

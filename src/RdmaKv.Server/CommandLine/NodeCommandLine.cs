using System.CommandLine;

namespace RdmaKv.Server;

/// <summary>The node's own options: --name, --data-dir, --memory, --partitions.</summary>
sealed class NodeCommandLine
{
    static readonly StorageNodeOptions Defaults = new();

    readonly Option<string> _name = new("--name") { Description = "node name; local clients connect with local:NAME", DefaultValueFactory = _ => Defaults.Name };
    readonly Option<string> _dataDir = new("--data-dir") { Description = "directory for the node's durable state", DefaultValueFactory = _ => Defaults.DataDirectory };
    readonly Option<string> _memory = new("--memory") { Description = "memory for all regions, e.g. 256m or 2g", DefaultValueFactory = _ => "256m" };
    readonly Option<int> _partitions = new("--partitions") { Description = "partitions on this node", DefaultValueFactory = _ => Defaults.Partitions };

    public static NodeCommandLine AddTo(RootCommand root)
    {
        var options = new NodeCommandLine();
        root.Options.Add(options._name);
        root.Options.Add(options._dataDir);
        root.Options.Add(options._memory);
        root.Options.Add(options._partitions);
        return options;
    }

    /// <summary>Applies the parsed options; false with a message for the user when one is not valid.</summary>
    public bool TryApply(ParseResult parse, ref StorageNodeOptions options, out string? error)
    {
        error = null;
        if (!SizeParser.TryParse(parse.GetValue(_memory)!, out long memoryBytes))
        {
            error = $"--memory '{parse.GetValue(_memory)}' is not a size; use a number with an optional k, m or g suffix, e.g. 256m";
            return false;
        }
        options = options with
        {
            Name = parse.GetValue(_name)!,
            DataDirectory = parse.GetValue(_dataDir)!,
            MemoryBytes = memoryBytes,
            Partitions = parse.GetValue(_partitions),
        };
        return true;
    }
}

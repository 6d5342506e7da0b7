using System.CommandLine;
using System.Globalization;
using RdmaKv.Storage;

namespace RdmaKv.Server;

/// <summary>The server's durability and cold-tier options: --durability, --commit-interval, --checkpoint-interval, --store-memory, --cold-tier.</summary>
sealed class DurabilityCommandLine
{
    static readonly StorageNodeOptions Defaults = new();

    readonly Option<string> _durability = new("--durability")
    {
        Description = "when a write is on disk: none (checkpoints only), async (log committed every --commit-interval), sync (reply after the commit)",
        DefaultValueFactory = _ => Defaults.Durability.Name(),
    };

    readonly Option<double> _commitInterval = new("--commit-interval")
    {
        Description = "milliseconds between log commits in async mode (the most a crash can lose)",
        DefaultValueFactory = _ => Defaults.CommitInterval.TotalMilliseconds,
    };

    readonly Option<double> _checkpointInterval = new("--checkpoint-interval")
    {
        Description = "seconds between checkpoints of the store (the log is cut behind each); 0 turns them off until shutdown",
        DefaultValueFactory = _ => Defaults.CheckpointInterval.TotalSeconds,
    };

    readonly Option<string> _storeMemory = new("--store-memory")
    {
        Description = "memory for the store's in-memory log (FASTER), e.g. 64m; older records are read from disk",
        DefaultValueFactory = _ => (Defaults.StoreMemoryBytes >> 20).ToString(CultureInfo.InvariantCulture) + "m",
    };

    readonly Option<string> _coldTier = new("--cold-tier")
    {
        Description = "on: a full region evicts cold values to the store; off: puts fail with RegionFull",
        DefaultValueFactory = _ => Defaults.ColdTier ? "on" : "off",
    };

    readonly Option<double> _expirySweep = new("--expiry-sweep-interval")
    {
        Description = "seconds between sweeps that remove values whose expiry passed (reads take them as absent at once); 0 turns the sweep off",
        DefaultValueFactory = _ => Defaults.ExpirySweepInterval.TotalSeconds,
    };

    public static DurabilityCommandLine AddTo(RootCommand root)
    {
        var options = new DurabilityCommandLine();
        root.Options.Add(options._durability);
        root.Options.Add(options._commitInterval);
        root.Options.Add(options._checkpointInterval);
        root.Options.Add(options._storeMemory);
        root.Options.Add(options._coldTier);
        root.Options.Add(options._expirySweep);
        return options;
    }

    /// <summary>Applies the parsed options; false with a message for the user when one is not valid.</summary>
    public bool TryApply(ParseResult parse, ref StorageNodeOptions options, out string? error)
    {
        error = null;
        if (!DurabilityModes.TryParse(parse.GetValue(_durability)!, out var mode))
        {
            error = $"--durability '{parse.GetValue(_durability)}' is not a mode; use none, async or sync";
            return false;
        }
        if (!SizeParser.TryParse(parse.GetValue(_storeMemory)!, out long storeMemory))
        {
            error = $"--store-memory '{parse.GetValue(_storeMemory)}' is not a size; use a number with an optional k, m or g suffix, e.g. 64m";
            return false;
        }
        string coldTier = parse.GetValue(_coldTier)!;
        if (coldTier is not ("on" or "off"))
        {
            error = $"--cold-tier '{coldTier}' must be on or off";
            return false;
        }
        double commit = parse.GetValue(_commitInterval);
        double checkpoint = parse.GetValue(_checkpointInterval);
        if (!(commit > 0) || !(checkpoint >= 0) || double.IsInfinity(commit) || double.IsInfinity(checkpoint))
        {
            error = $"--commit-interval {commit} and --checkpoint-interval {checkpoint} must be positive numbers";
            return false;
        }
        double sweep = parse.GetValue(_expirySweep);
        if (!(sweep >= 0) || double.IsInfinity(sweep))
        {
            error = $"--expiry-sweep-interval {sweep} must be a number of seconds, 0 or more";
            return false;
        }
        options = options with
        {
            ExpirySweepInterval = TimeSpan.FromSeconds(sweep),
            Durability = mode,
            CommitInterval = TimeSpan.FromMilliseconds(commit),
            CheckpointInterval = checkpoint == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(checkpoint),
            StoreMemoryBytes = storeMemory,
            ColdTier = coldTier == "on",
        };
        return true;
    }
}

using System.CommandLine;

namespace RdmaKv.Cli;

/// <summary>The CLI's exit codes (README, Quick start): one meaning each, so a script can tell them apart.</summary>
static class ExitCode
{
    public const int Done = 0;
    public const int NotFound = 1;
    public const int Failed = 2;
    public const int Unreachable = 3;

    /// <summary>An unknown verb or option, a missing or bad argument: nothing was sent (EX_USAGE of sysexits.h).</summary>
    public const int Usage = 64;

    /// <summary>Prints each parse error on one line and where the usage is; returns <see cref="Usage"/>.</summary>
    public static int UsageErrors(ParseResult result)
    {
        // "rdmakv frob" is also "no command given"; the unknown word is the news.
        var errors = result.Errors.Count > 1 ? result.Errors.Where(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) : result.Errors;
        foreach (var error in errors) Console.Error.WriteLine($"rdmakv: {error.Message}");
        string verb = result.CommandResult.Command is RootCommand ? "rdmakv" : "rdmakv " + Path(result.CommandResult.Command, result);
        Console.Error.WriteLine($"rdmakv: usage: {verb} --help");
        return Usage;
    }

    /// <summary>A usage error found after parsing (an address the client cannot parse, a slot out of range).</summary>
    public static int UsageError(string message)
    {
        Console.Error.WriteLine($"rdmakv: {message}");
        Console.Error.WriteLine("rdmakv: usage: rdmakv --help");
        return Usage;
    }

    static string Path(Command command, ParseResult result)
    {
        var names = new List<string>();
        for (var r = result.CommandResult; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return names.Count == 0 ? command.Name : string.Join(' ', names);
    }
}

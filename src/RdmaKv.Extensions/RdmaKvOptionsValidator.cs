using System.Globalization;
using Microsoft.Extensions.Options;

namespace RdmaKv.Extensions;

/// <summary>
/// Checks <see cref="RdmaKvOptions"/> before the client connects (at start with
/// <c>ValidateOnStart</c>, else at first use), so a missing or malformed connection string fails
/// with a message that says what to write, not with a connection error later.
/// </summary>
sealed class RdmaKvOptionsValidator : IValidateOptions<RdmaKvOptions>
{
    const string Forms = "local:NAME, ucx://HOST:PORT[,HOST:PORT...] or cluster:FILE";

    public ValidateOptionsResult Validate(string? name, RdmaKvOptions options)
    {
        var failures = new List<string>();
        if (ConnectError(options.Connect) is { } connect) failures.Add(connect);
        if (options.Timeout is { } timeout && timeout <= TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
            failures.Add($"RdmaKv:Timeout is {timeout}; it must be positive");
        if (options.LocationCacheEntries is < 1)
            failures.Add($"RdmaKv:LocationCacheEntries is {options.LocationCacheEntries}; it must be at least 1");
        if (string.IsNullOrEmpty(options.Token) && !string.IsNullOrEmpty(options.TokenFile) && !File.Exists(options.TokenFile))
            failures.Add($"RdmaKv:TokenFile names '{options.TokenFile}', which does not exist");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Why <paramref name="connect"/> is not an address the client takes, or null when it is one.</summary>
    internal static string? ConnectError(string? connect)
    {
        if (string.IsNullOrWhiteSpace(connect))
            return $"RdmaKv:Connect is missing: set it to the node to use ({Forms}), e.g. \"RdmaKv\": {{ \"Connect\": \"local:default\" }}";
        const string local = "local:", ucx = "ucx://", cluster = "cluster:";
        if (connect.StartsWith(local, StringComparison.Ordinal))
            return connect[local.Length..].TrimStart('/').Length == 0 ? $"RdmaKv:Connect '{connect}' names no node; use local:NAME, e.g. local:default" : null;
        if (connect.StartsWith(cluster, StringComparison.Ordinal))
            return connect.Length == cluster.Length ? $"RdmaKv:Connect '{connect}' names no cluster file; use cluster:FILE" : null;
        if (!connect.StartsWith(ucx, StringComparison.Ordinal))
            return $"RdmaKv:Connect '{connect}' is not a node address; use {Forms}";
        var seeds = connect[ucx.Length..].TrimEnd('/').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (seeds.Length == 0) return $"RdmaKv:Connect '{connect}' names no node; use ucx://HOST:PORT[,HOST:PORT...]";
        foreach (var seed in seeds)
        {
            string address = seed.StartsWith(ucx, StringComparison.Ordinal) ? seed[ucx.Length..] : seed;
            if (!IsHostPort(address)) return $"RdmaKv:Connect '{connect}': '{address}' is not HOST:PORT (a port from 1 to 65535)";
        }
        return null;
    }

    static bool IsHostPort(string address)
    {
        int colon = address.LastIndexOf(':');
        return colon > 0
            && int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
            && port is >= 1 and <= 65535;
    }
}

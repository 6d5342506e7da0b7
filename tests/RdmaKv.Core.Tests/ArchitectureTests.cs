namespace RdmaKv.Core.Tests;

/// <summary>
/// The arrows between projects point one way: each project under src/ and bench/ references only
/// the projects its place in <see cref="Allowed"/> names, and shows its internals only to its own
/// test project. docs/ARCHITECTURE.md ("Projects and dependencies") states the same graph.
/// </summary>
public class ArchitectureTests
{
    /// <summary>The allowed graph: for each project, the projects of ours it may reference.</summary>
    static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["RdmaKv.Core"] = [],
        ["RdmaKv.Transport"] = ["RdmaKv.Core"],
        ["RdmaKv.Transport.Ucx"] = [],
        ["RdmaKv.Protocol"] = ["RdmaKv.Core"],
        ["RdmaKv.Storage"] = ["RdmaKv.Core"],
        ["RdmaKv.Admin"] = ["RdmaKv.Core", "RdmaKv.Protocol"],
        ["RdmaKv.Coordination"] = ["RdmaKv.Core"],
        ["RdmaKv.Resp"] = ["RdmaKv.Core"],
        ["RdmaKv.Client"] = ["RdmaKv.Core", "RdmaKv.Protocol", "RdmaKv.Transport", "RdmaKv.Transport.Ucx"],
        ["RdmaKv.Cli"] = ["RdmaKv.Client", "RdmaKv.Protocol", "RdmaKv.Coordination"],
        ["RdmaKv.Extensions"] = ["RdmaKv.Client"],
        ["RdmaKv.Server"] = ["RdmaKv.Core", "RdmaKv.Protocol", "RdmaKv.Transport", "RdmaKv.Transport.Ucx", "RdmaKv.Storage", "RdmaKv.Admin", "RdmaKv.Coordination", "RdmaKv.Resp"],
        ["RdmaKv.Bench"] = ["RdmaKv.Client", "RdmaKv.Server"],
        ["RdmaKv.Benchmarks"] = ["RdmaKv.Client", "RdmaKv.Server", "RdmaKv.Extensions"],
    };

    /// <summary>Backward arrows that exist today and are to go; each must still exist (remove it here when it goes).</summary>
    static readonly (string From, string To, string Why)[] KnownExceptions = [];

    /// <summary>What the client library must never reach, directly or through another project.</summary>
    static readonly string[] NeverUnderTheClient = ["RdmaKv.Server", "RdmaKv.Storage", "RdmaKv.Admin"];

    readonly ProjectGraph _graph = ProjectGraph.Load();

    [Fact]
    public void EveryProjectUnderSrcAndBenchHasAPlaceInTheAllowedGraph()
    {
        Assert.Equal(Allowed.Keys.Order(StringComparer.Ordinal), _graph.Projects.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void NoProjectReferencesOneThatItsPlaceInTheGraphDoesNotAllow()
    {
        var backward = _graph.Projects.Values
            .SelectMany(p => p.References.Select(r => (From: p.Name, To: r)))
            .Where(e => !Allowed.TryGetValue(e.From, out var allowed) || !allowed.Contains(e.To))
            .Where(e => !KnownExceptions.Any(k => k.From == e.From && k.To == e.To))
            .Select(e => $"{e.From} -> {e.To}")
            .ToList();
        Assert.True(backward.Count == 0, "references the allowed graph (ArchitectureTests.Allowed, docs/ARCHITECTURE.md) does not have: " + string.Join(", ", backward));
    }

    [Fact]
    public void EveryKnownExceptionStillExistsSoTheListShrinksWhenOneIsFixed()
    {
        foreach (var (from, to, why) in KnownExceptions)
            Assert.True(_graph.Projects[from].References.Contains(to), $"{from} -> {to} ({why}) is gone: remove it from KnownExceptions and the docs");
    }

    [Fact]
    public void TheClientNeverReachesTheServerStorageOrAdminEvenThroughAnotherProject()
    {
        Assert.Empty(_graph.Reachable("RdmaKv.Client").Intersect(NeverUnderTheClient));
    }

    [Fact]
    public void TheCommandLineReachesOnlyTheClientTheProtocolTheEtcdLayerAndWhatTheyReach()
    {
        string[] uses = ["RdmaKv.Client", "RdmaKv.Protocol", "RdmaKv.Coordination"];
        var below = new HashSet<string>([.. uses, .. uses.SelectMany(_graph.Reachable)]);
        Assert.Empty(_graph.Reachable("RdmaKv.Cli").Except(below));
    }

    [Fact]
    public void CoreReferencesNothingOfOursAndNothingReachesBackIntoAProjectAbove()
    {
        Assert.Empty(_graph.Projects["RdmaKv.Core"].References);
        foreach (string name in _graph.Projects.Keys)
            Assert.False(_graph.Reachable(name).Contains(name), $"{name} reaches itself: a cycle");
    }

    [Fact]
    public void InternalsAreVisibleOnlyToTheProjectsOwnTests()
    {
        foreach (var project in _graph.Projects.Values)
        {
            foreach (string friend in project.InternalsVisibleTo)
                Assert.True(friend == project.Name + ".Tests", $"{project.Name} shows its internals to {friend}; only {project.Name}.Tests may see them");
        }
        // The attribute written in source would slip past the .csproj check.
        var inSource = ProjectGraph.Folders
            .SelectMany(f => Directory.EnumerateFiles(Path.Combine(_graph.Root, f), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .Where(f => File.ReadAllText(f).Contains("InternalsVisibleTo", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(_graph.Root, f));
        Assert.Empty(inSource);
    }
}

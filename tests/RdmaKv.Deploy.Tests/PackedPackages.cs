using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;

namespace RdmaKv.Deploy.Tests;

/// <summary>
/// What scripts/pack.sh makes of this test run's build: it packs with <c>--no-build</c>, in the
/// configuration these tests were built in (building them builds RdmaKv.Client and what it
/// references), into a temporary folder. Packed once, when a test first asks; Dispose removes it.
/// </summary>
public sealed class PackedPackages : IDisposable
{
    static readonly TimeSpan PackLimit = TimeSpan.FromMinutes(10);
    readonly string _root = Directory.CreateTempSubdirectory("rdmakv-packages-").FullName;
    readonly Lazy<string> _folder;

    public PackedPackages() => _folder = new Lazy<string>(Pack);

    /// <summary>The folder holding the .nupkg and .snupkg files: a local NuGet feed.</summary>
    public string Folder => _folder.Value;

    /// <summary>How long pack.sh took.</summary>
    public TimeSpan PackTime { get; private set; }

    /// <summary>The version every package has: the one VersionPrefix in src/Directory.Build.props.</summary>
    public static string Version { get; } = ReadVersion();

    /// <summary>Projects under src/ that say they are packages, by name (RdmaKv.Client, ...).</summary>
    public static IReadOnlyList<string> Projects { get; } = [.. Directory.GetFiles(Repository.Sources, "*.csproj", SearchOption.AllDirectories)
        .Where(p => XDocument.Load(p).Descendants("IsPackable").Any(e => e.Value.Trim() == "true"))
        .Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal)];

    /// <summary>The RdmaKv projects <paramref name="project"/> references (its ProjectReference items), by name.</summary>
    public static IReadOnlyList<string> References(string project) =>
        [.. XDocument.Load(Path.Combine(Repository.Sources, project, project + ".csproj")).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))];

    /// <summary>The package of <paramref name="project"/> (or its symbols with <paramref name="extension"/> snupkg) in <see cref="Folder"/>.</summary>
    public string PathOf(string project, string extension = "nupkg") => Path.Combine(Folder, $"{project}.{Version}.{extension}");

    string Pack()
    {
        string folder = Path.Combine(_root, "feed");
        string configuration = typeof(PackedPackages).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var watch = Stopwatch.StartNew();
        Tool.Run("bash", [Repository.PackScript, "--no-build", "-c", configuration, folder],
            environment: new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1" }, timeout: PackLimit).Succeeded();
        PackTime = watch.Elapsed;
        return folder;
    }

    static string ReadVersion()
    {
        var prefixes = XDocument.Load(Path.Combine(Repository.Sources, "Directory.Build.props")).Descendants("VersionPrefix").ToList();
        Assert.True(prefixes.Count == 1, "src/Directory.Build.props gives the packages' version, once (VersionPrefix)");
        return prefixes[0].Value.Trim();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A .nupkg or .snupkg opened: its nuspec's metadata and the files it holds.</summary>
sealed class PackageFile
{
    public PackageFile(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not packed");
        using var zip = ZipFile.OpenRead(path);
        Files = [.. zip.Entries.Select(e => e.FullName)];
        var nuspec = zip.Entries.Where(e => !e.FullName.Contains('/') && e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).ToList();
        Assert.True(nuspec.Count == 1, $"{path} holds {nuspec.Count} nuspec files at its root");
        using var stream = nuspec[0].Open();
        Metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    public IReadOnlyList<string> Files { get; }
    public XElement Metadata { get; }

    /// <summary>The text of the metadata element <paramref name="name"/> (id, version, readme, ...), or null.</summary>
    public string? Text(string name) => Element(name)?.Value;

    public XElement? Element(string name) => Metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

    /// <summary>Dependencies as id to version, over every target framework group.</summary>
    public IReadOnlyDictionary<string, string> Dependencies =>
        Metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
}

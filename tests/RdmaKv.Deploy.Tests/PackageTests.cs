using System.Diagnostics;
using System.Text.Json;
using RdmaKv.Tests;
using Xunit.Abstractions;

namespace RdmaKv.Deploy.Tests;

/// <summary>
/// The NuGet packages scripts/pack.sh makes: what each one carries, and an application outside the
/// repository that references RdmaKv.Client from the package folder alone and uses a real node.
/// </summary>
[Collection(DeployCollection.Name)]
public sealed class PackageTests(PublishedBuild build, PackedPackages packages, ITestOutputHelper log) : IClassFixture<PackedPackages>, IDisposable
{
    static readonly TimeSpan DotnetLimit = TimeSpan.FromMinutes(10);
    const string Framework = "net10.0";
    readonly string _root = Directory.CreateTempSubdirectory("rdmakv-package-app-").FullName;
    ChildProcess? _node;
    string? _nodeName;

    [Fact]
    public void EveryPackageCarriesItsReadmeXmlDocsSymbolsTheLicenseAndItsRdmaKvDependenciesAtOneVersion()
    {
        Assert.Contains("RdmaKv.Client", PackedPackages.Projects);
        string version = PackedPackages.Version;
        foreach (string project in PackedPackages.Projects)
        {
            var package = new PackageFile(packages.PathOf(project));
            Assert.Equal(project, package.Text("id"));
            Assert.Equal(version, package.Text("version"));
            var license = package.Element("license");
            Assert.True(license is not null && license.Attribute("type")?.Value == "expression" && license.Value == "MIT", $"{project}: license {license}");
            Assert.Equal("README.md", package.Text("readme"));
            Assert.Contains("README.md", package.Files);
            Assert.False(string.IsNullOrWhiteSpace(package.Text("description")), $"{project} has no description");
            Assert.Equal("RdmaKv contributors", package.Text("authors"));
            // The docs sit next to the dll, where IntelliSense looks for them.
            Assert.Contains($"lib/{Framework}/{project}.dll", package.Files);
            Assert.Contains($"lib/{Framework}/{project}.xml", package.Files);
            Assert.Contains($"lib/{Framework}/{project}.pdb", new PackageFile(packages.PathOf(project, "snupkg")).Files);

            // Each RdmaKv project it references is a package too, and a dependency at the same version.
            foreach (string reference in PackedPackages.References(project))
            {
                Assert.True(PackedPackages.Projects.Contains(reference),
                    $"{project} references {reference}, which is not a package: an application that restores {project} finds no {reference}. " +
                    $"Give src/{reference}/{reference}.csproj <IsPackable>true</IsPackable> and a README.md.");
                Assert.True(package.Dependencies.TryGetValue(reference, out string? wanted) && wanted == version,
                    $"{project}'s nuspec depends on {reference} at {wanted ?? "no version"}, not {version}: {string.Join(", ", package.Dependencies)}");
            }
        }
        string[] packed = [.. Directory.GetFiles(packages.Folder, "*.nupkg").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
        Assert.Equal([.. PackedPackages.Projects.Select(p => $"{p}.{version}.nupkg")], packed);
        foreach (string file in Directory.GetFiles(packages.Folder).Order(StringComparer.Ordinal))
            log.WriteLine($"{Path.GetFileName(file)}: {new FileInfo(file).Length:N0} bytes");
        log.WriteLine($"pack.sh --no-build took {packages.PackTime.TotalSeconds:F1} s");
    }

    [Fact]
    public void AnApplicationOutsideTheRepositoryUsesANodeThroughThePackagedClientAlone()
    {
        string feed = packages.Folder;
        string server = build.Dll("rdmakv-server.dll");
        var watch = Stopwatch.StartNew();

        // The node starts while the application builds.
        _nodeName = "package-" + Guid.NewGuid().ToString("N")[..12];
        string data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        _node = new ChildProcess(server, ["--name", _nodeName, "--data-dir", data, "--memory", "64m", "--partitions", "2",
            "--listen", "none", "--admin-urls", "none"], patience: TimeSpan.FromMinutes(2));

        string app = WriteApplication(feed);
        string restored = Path.Combine(_root, "packages");
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["NUGET_PACKAGES"] = null,
        };
        // No build servers: nothing this test starts outlives it.
        Tool.Run(Tool.Dotnet, ["build", app, "-nologo", "-v", "quiet", "--disable-build-servers"], app, environment, DotnetLimit).Succeeded();
        var built = watch.Elapsed;
        AssertRestoredFromTheFeed(app, feed, restored);

        _node.WaitForOutput("is up");
        var run = Tool.Run(Tool.Dotnet, [Path.Combine(app, "bin", "Debug", Framework, "app.dll"), "local:" + _nodeName], app, environment);
        Assert.True(run.ExitCode == 0 && run.Output.Contains("put, get, delete, get: ok", StringComparison.Ordinal), run.Describe());

        Assert.True(_node.Stop() == 0, $"the node exited with {_node.Process.ExitCode}:\n{_node.Output}\n{_node.Errors}");
        Assert.False(Directory.Exists(SharedMemory(_nodeName)), $"{SharedMemory(_nodeName)} is left after the node stopped");
        log.WriteLine($"application restored and built in {built.TotalSeconds:F1} s, run against the node by {watch.Elapsed.TotalSeconds:F1} s; " +
            $"pack.sh --no-build took {packages.PackTime.TotalSeconds:F1} s");
    }

    /// <summary>
    /// A console application in a temporary directory: empty Directory.Build.* files keep any the
    /// directories above hold away, its nuget.config lists the package folder (RdmaKv.* only) and
    /// nuget.org (MessagePack, System.IO.Hashing), and it restores into a folder of its own.
    /// </summary>
    string WriteApplication(string feed)
    {
        string app = Directory.CreateDirectory(Path.Combine(_root, "app")).FullName;
        foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.WriteAllText(Path.Combine(app, name), "<Project />\n");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="rdmakv" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="rdmakv"><package pattern="RdmaKv.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{Framework}</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RestorePackagesPath>$(MSBuildThisFileDirectory)../packages</RestorePackagesPath>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="RdmaKv.Client" Version="[{PackedPackages.Version}]" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System.Runtime.Versioning;
            using System.Text;
            using RdmaKv.Client;

            [assembly: SupportedOSPlatform("linux")]

            using var client = KvClient.Connect(args[0]);
            client.Put("package-key", "package-value");
            string? got = client.Get("package-key") is { } value ? Encoding.UTF8.GetString(value) : null;
            if (got != "package-value") return Fail($"get after put: {got ?? "absent"}");
            if (!client.Delete("package-key")) return Fail("delete: the key was not there");
            if (client.Get("package-key") is not null) return Fail("get after delete: the key is still there");
            Console.WriteLine("put, get, delete, get: ok");
            return 0;

            static int Fail(string what)
            {
                Console.Error.WriteLine(what);
                return 1;
            }
            """);
        return app;
    }

    /// <summary>
    /// Every RdmaKv assembly the application got is a package that NuGet took from
    /// <paramref name="feed"/> into <paramref name="restored"/> (no project reference, no other
    /// source or cache), and they are RdmaKv.Client with everything it references.
    /// </summary>
    static void AssertRestoredFromTheFeed(string app, string feed, string restored)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        string[] folders = [.. assets.RootElement.GetProperty("packageFolders").EnumerateObject().Select(f => f.Name.TrimEnd('/'))];
        Assert.Equal([restored], folders);
        var rdmaKv = new List<string>();
        foreach (var library in assets.RootElement.GetProperty("libraries").EnumerateObject())
        {
            string type = library.Value.GetProperty("type").GetString()!;
            Assert.True(type == "package", $"{library.Name} is a {type}, not a package");
            string[] idAndVersion = library.Name.Split('/');
            if (!idAndVersion[0].StartsWith("RdmaKv.", StringComparison.Ordinal)) continue;
            Assert.Equal(PackedPackages.Version, idAndVersion[1]);
            rdmaKv.Add(idAndVersion[0]);
            string metadata = Path.Combine(restored, library.Value.GetProperty("path").GetString()!, ".nupkg.metadata");
            using var source = JsonDocument.Parse(File.ReadAllText(metadata));
            Assert.Equal(feed, source.RootElement.GetProperty("source").GetString()!.TrimEnd('/'));
        }
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(["RdmaKv.Client"]);
        while (pending.TryPop(out string? project))
        {
            if (expected.Add(project))
                foreach (string reference in PackedPackages.References(project)) pending.Push(reference);
        }
        Assert.Equal(expected, rdmaKv.Order(StringComparer.Ordinal));
    }

    static string SharedMemory(string name) => $"/dev/shm/rdmakv-{name}";

    public void Dispose()
    {
        if (_node is not null)
        {
            _node.StopWithin(TimeSpan.FromSeconds(15));
            _node.Dispose();
        }
        try
        {
            if (_nodeName is not null && Directory.Exists(SharedMemory(_nodeName))) Directory.Delete(SharedMemory(_nodeName), recursive: true);
        }
        catch (IOException)
        {
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

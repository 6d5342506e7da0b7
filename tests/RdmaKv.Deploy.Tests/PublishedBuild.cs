namespace RdmaKv.Deploy.Tests;

/// <summary>
/// The Dockerfile's build stage, run on this host: the build context (the repository, less what
/// .dockerignore leaves out) is copied to a temporary directory and every <c>dotnet</c> command of
/// the stage's RUN lines runs there, with the stage's output directory (/app) replaced by a
/// temporary one. Done once, when a test first asks; the live tests run these binaries.
/// </summary>
public sealed class PublishedBuild : IDisposable
{
    static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(10);
    readonly Lazy<string> _output;
    readonly string _root = Directory.CreateTempSubdirectory("rdmakv-deploy-").FullName;

    public PublishedBuild() => _output = new Lazy<string>(Publish);

    /// <summary>What the image's /app holds: rdmakv-server.dll, rdmakv.dll and their dependencies.</summary>
    public string Output => _output.Value;

    /// <summary>The stage's output directory in the image.</summary>
    public const string ImageOutput = "/app";

    public string Dll(string name) => Path.Combine(Output, name);

    string Publish()
    {
        var model = DockerfileModel.Load(Repository.Dockerfile);
        var build = model.Stages[0];
        string context = Path.Combine(_root, "context");
        string output = Path.Combine(_root, "app");
        BuildContext.Copy(Repository.Root, context);
        string workdir = DockerfileModel.Of(build, "WORKDIR").Select(w => w.Arguments).LastOrDefault() ?? "/";
        Assert.Equal("/src", workdir);

        var environment = new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
        foreach (var env in DockerfileModel.Of(build, "ENV"))
        {
            foreach (string pair in env.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] kv = pair.Split('=', 2);
                environment[kv[0]] = kv.Length == 2 ? kv[1] : "";
            }
        }
        var commands = DockerfileModel.Of(build, "RUN").SelectMany(r => r.Commands).ToList();
        Assert.True(commands.Count > 0, "the Dockerfile's build stage runs nothing");
        var started = DateTime.UtcNow;
        foreach (string command in commands)
        {
            string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(words[0] == "dotnet", $"the build stage runs '{command}'; this test knows only dotnet commands");
            var args = words[1..].Select(w => w == ImageOutput ? output : w).Append("-nologo").ToList();
            var left = BuildLimit - (DateTime.UtcNow - started);
            Assert.True(left > TimeSpan.Zero, $"the build stage took more than {BuildLimit}");
            Tool.Run(Tool.Dotnet, args, context, environment, left).Succeeded();
        }
        return output;
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

/// <summary>What <c>docker build</c> sends: the repository without the paths .dockerignore names.</summary>
static class BuildContext
{
    public static void Copy(string from, string to)
    {
        var rules = File.ReadAllLines(Repository.DockerIgnore)
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (rules.Any(r => Ignores(r, relative))) continue;
            string target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The forms deploy's .dockerignore uses: <c>**/dir/</c>, <c>dir/</c> (top level) and <c>**/*.ext</c>.</summary>
    public static bool Ignores(string rule, string relative)
    {
        string[] parts = relative.Split('/');
        if (rule.StartsWith("**/*.", StringComparison.Ordinal)) return relative.EndsWith(rule[4..], StringComparison.Ordinal);
        if (rule.StartsWith("**/", StringComparison.Ordinal) && rule.EndsWith('/')) return parts[..^1].Contains(rule[3..^1]);
        if (rule.EndsWith('/') && !rule[..^1].Contains('/') && !rule.Contains('*')) return parts.Length > 1 && parts[0] == rule[..^1];
        Assert.Fail($".dockerignore rule '{rule}' has a form this test does not know; teach BuildContext.Ignores");
        return false;
    }
}

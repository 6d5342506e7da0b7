using System.Xml.Linq;

namespace RdmaKv.Core.Tests;

/// <summary>
/// The arrows between the repository's own projects as their .csproj files state them: each
/// project's ProjectReference items (by project name) and InternalsVisibleTo items, for every
/// project under src/ and bench/.
/// </summary>
sealed class ProjectGraph
{
    public static readonly string[] Folders = ["src", "bench"];

    ProjectGraph(string root, IReadOnlyDictionary<string, Project> projects)
    {
        Root = root;
        Projects = projects;
    }

    public string Root { get; }

    public IReadOnlyDictionary<string, Project> Projects { get; }

    public sealed record Project(string Name, string File, IReadOnlyList<string> References, IReadOnlyList<string> InternalsVisibleTo);

    public static ProjectGraph Load()
    {
        string root = FindRoot();
        var projects = new Dictionary<string, Project>(StringComparer.Ordinal);
        foreach (string folder in Folders)
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.csproj", SearchOption.AllDirectories))
            {
                var project = Read(file);
                Assert.True(projects.TryAdd(project.Name, project), $"two projects named {project.Name}");
            }
        }
        return new ProjectGraph(root, projects);
    }

    /// <summary>Every project <paramref name="name"/> reaches through its references, itself excluded.</summary>
    public IReadOnlySet<string> Reachable(string name)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([name]);
        while (stack.Count > 0)
        {
            if (!Projects.TryGetValue(stack.Pop(), out var project)) continue;
            foreach (string next in project.References)
                if (seen.Add(next)) stack.Push(next);
        }
        return seen;
    }

    static Project Read(string file)
    {
        var xml = XDocument.Load(file);
        string[] Items(string item) => [.. xml.Descendants(item).Select(e => (string?)e.Attribute("Include")).OfType<string>()];
        string name = Path.GetFileNameWithoutExtension(file);
        string[] references = [.. Items("ProjectReference").Select(r => Path.GetFileNameWithoutExtension(r.Replace('\\', '/')))];
        return new Project(name, file, references, Items("InternalsVisibleTo"));
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RdmaKv.sln")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no repository root (RdmaKv.sln beside src/) above {AppContext.BaseDirectory}");
    }
}

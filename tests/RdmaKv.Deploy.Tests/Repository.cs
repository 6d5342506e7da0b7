namespace RdmaKv.Deploy.Tests;

/// <summary>Paths in the repository these tests check.</summary>
static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Deploy => Path.Combine(Root, "deploy");
    public static string Dockerfile => Path.Combine(Deploy, "Dockerfile");
    public static string ClusterFile => Path.Combine(Deploy, "cluster.json");
    public static string ComposeClusterFile => Path.Combine(Deploy, "cluster.compose.json");
    public static string LocalClusterScript => Path.Combine(Deploy, "local-cluster.sh");
    public static string SystemdUnit => Path.Combine(Deploy, "rdmakv.service");
    public static string SystemdConfigExample => Path.Combine(Deploy, "rdmakv.conf.example");
    public static string Compose => Path.Combine(Root, "docker-compose.yml");
    public static string DockerIgnore => Path.Combine(Root, ".dockerignore");
    public static string Sources => Path.Combine(Root, "src");
    public static string PackScript => Path.Combine(Root, "scripts", "pack.sh");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RdmaKv.sln")) && Directory.Exists(Path.Combine(dir.FullName, "deploy")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no repository root (RdmaKv.sln beside deploy/) above {AppContext.BaseDirectory}");
    }
}

namespace RdmaKv.Deploy.Tests;

/// <summary>
/// deploy/Dockerfile, as far as a host without a Docker engine can check it: its shape, the
/// packages its runtime stage installs, and its build stage's commands, run here.
/// </summary>
[Collection(DeployCollection.Name)]
public sealed class DockerfileTests(PublishedBuild build)
{
    readonly DockerfileModel _model = DockerfileModel.Load(Repository.Dockerfile);

    [Fact]
    public void BuildsWithTheSdkAndRunsOnTheAspNetRuntimeAsAnUnprivilegedUser()
    {
        Assert.Equal(2, _model.Stages.Count);
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0 AS build", _model.Stages[0][0].Arguments);
        var runtime = _model.Stages[1];
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", runtime[0].Arguments);
        Assert.Contains(runtime, i => i.Keyword == "COPY" && i.Arguments == $"--from=build {PublishedBuild.ImageOutput} {PublishedBuild.ImageOutput}");
        var user = Assert.Single(DockerfileModel.Of(runtime, "USER"));
        Assert.NotEqual("root", user.Arguments);
        Assert.Contains(runtime, i => i.Keyword == "VOLUME" && i.Arguments.Contains("/var/lib/rdmakv", StringComparison.Ordinal));
        var expose = Assert.Single(DockerfileModel.Of(runtime, "EXPOSE"));
        Assert.Equal(["7400", "7480"], expose.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["dotnet", "/app/rdmakv-server.dll"], Assert.Single(DockerfileModel.Of(runtime, "ENTRYPOINT")).ExecForm);
        // The user is made before it is named, and owns the data directory the volume starts from.
        int made = runtime.ToList().FindIndex(i => i.Keyword == "RUN" && i.Arguments.Contains($"useradd --system --gid {user.Arguments}", StringComparison.Ordinal));
        Assert.True(made >= 0 && made < runtime.ToList().IndexOf(user), "the runtime stage does not create its user before USER");
        Assert.Contains(runtime, i => i.Keyword == "RUN" && i.Arguments.Contains($"chown {user.Arguments}:{user.Arguments} /var/lib/rdmakv", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryPackageTheRuntimeStageInstallsExistsInDebian()
    {
        var packages = DockerfileModel.Of(_model.Stages[1], "RUN").SelectMany(r => r.Commands)
            .Where(c => c.StartsWith("apt-get install", StringComparison.Ordinal))
            .SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(2).Where(w => !w.StartsWith('-')))
            .ToList();
        Assert.Contains("libucx0", packages);
        foreach (string package in packages)
        {
            var shown = Tool.Run("apt-cache", "show", package);
            Assert.True(shown.ExitCode == 0 && shown.Output.Contains($"Package: {package}", StringComparison.Ordinal),
                $"the Dockerfile installs {package}, which apt does not know: {shown.Describe()}");
        }
    }

    [Fact]
    public void TheBuildStagePublishesTheServerAndTheCliIntoWhatTheEntrypointRuns()
    {
        Assert.True(File.Exists(build.Dll("rdmakv-server.dll")), $"the build stage left no rdmakv-server.dll in {build.Output}");
        Assert.True(File.Exists(build.Dll("rdmakv.dll")), $"the build stage left no rdmakv.dll in {build.Output}");
        // The published node starts as far as its options: --help lists what the image's CMD gives it.
        var help = Tool.Run(Tool.Dotnet, [build.Dll("rdmakv-server.dll"), "--help"], build.Output).Succeeded();
        string[] cmd = Assert.Single(DockerfileModel.Of(_model.Stages[1], "CMD")).ExecForm;
        foreach (string option in cmd.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
            Assert.Contains(option, help.Output);
    }
}

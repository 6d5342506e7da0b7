using System.Diagnostics;

namespace RdmaKv.Core.Tests;

/// <summary>
/// The client's public API is frozen (src/RdmaKv.Client/PublicAPI.Shipped.txt): building the real
/// client project with one more public member, listed nowhere, must fail with RS0016. The probe
/// build writes to a temporary folder and uses the referenced projects as the solution build left
/// them, so it compiles the client alone.
/// </summary>
public sealed class PublicApiTests : IDisposable
{
    readonly string _probe = Directory.CreateTempSubdirectory("rdmakv-api-probe-").FullName;

    [Fact]
    public void AClientPublicMemberThatPublicApiFilesDoNotListFailsTheBuild()
    {
        string root = ProjectGraph.Load().Root;
        string source = Path.Combine(_probe, "ApiProbe.cs");
        File.WriteAllText(source, "namespace RdmaKv.Client;\n\npublic static class ApiProbe\n{\n    public static int Unlisted() => 0;\n}\n");
        // Imported by every project of the build (a global property): only the client takes the
        // probe and sends its output here, so the real obj/ and bin/ stay as they were.
        string targets = Path.Combine(_probe, "Probe.targets");
        File.WriteAllText(targets, $"""
            <Project>
              <PropertyGroup Condition="'$(MSBuildProjectName)' == 'RdmaKv.Client'">
                <OutDir>{_probe}/bin/</OutDir>
                <IntermediateOutputPath>{_probe}/obj/</IntermediateOutputPath>
              </PropertyGroup>
              <ItemGroup Condition="'$(MSBuildProjectName)' == 'RdmaKv.Client'">
                <Compile Include="{source}" />
              </ItemGroup>
            </Project>
            """);

        var (exit, output) = Build(Path.Combine(root, "src", "RdmaKv.Client", "RdmaKv.Client.csproj"), targets);

        Assert.True(exit != 0, "the client built with a public member missing from its PublicAPI files:\n" + output);
        Assert.True(output.Contains("error RS0016", StringComparison.Ordinal) && output.Contains("ApiProbe.Unlisted", StringComparison.Ordinal),
            "the build failed, but not on the unlisted member (RS0016):\n" + output);
    }

    static (int Exit, string Output) Build(string project, string targets)
    {
        // No build servers: nothing of the build outlives the test.
        // The configuration these tests were built in is the one the referenced projects exist in.
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in (string[])["build", project, "-c", configuration, "--no-restore", "-nologo", "-v", "quiet",
            "--disable-build-servers", "-p:BuildProjectReferences=false", $"-p:CustomBeforeMicrosoftCommonTargets={targets}"])
            start.ArgumentList.Add(arg);
        using var build = Process.Start(start)!;
        var stdout = build.StandardOutput.ReadToEndAsync();
        var stderr = build.StandardError.ReadToEndAsync();
        if (!build.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            build.Kill(entireProcessTree: true);
            Assert.Fail("the probe build did not finish within 5 minutes");
        }
        return (build.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose() => Directory.Delete(_probe, recursive: true);
}

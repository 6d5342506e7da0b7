using RdmaKv.Tests;

namespace RdmaKv.Admin.Tests;

/// <summary>
/// The nodes of a cluster may share one admin token file and start at the same moment: each
/// must read the one token that was made, never a file still being written.
/// </summary>
public sealed class AdminTokenFileRaceTests : IDisposable
{
    const int Starters = 4;
    readonly string _directory = Directory.CreateTempSubdirectory("rdmakv-token-race-").FullName;

    [Fact]
    public void StartersRacingToMakeASharedTokenFileAllGetTheSameTokenAndExactlyOneMadeIt()
    {
        for (int round = 0; round < 100; round++)
        {
            string file = Path.Combine(_directory, $"admin-token-{round}");
            var outcomes = StartingLine.Run(Starters, _ => AdminToken.LoadOrCreateFile(file));
            var results = outcomes.Select(o => o.Result).ToArray();
            var failures = outcomes.Select(o => o.Failure).ToArray();

            Assert.True(failures.All(f => f is null), $"round {round}: {failures.FirstOrDefault(f => f is not null)}");
            Assert.Single(results, r => r!.Created);
            Assert.Single(results.Select(r => r!.Value).Distinct());
            Assert.Equal(results[0]!.Value, File.ReadAllText(file).Trim());
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

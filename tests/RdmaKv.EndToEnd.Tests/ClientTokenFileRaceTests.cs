using RdmaKv.Server.Ucx;
using RdmaKv.Tests;

namespace RdmaKv.EndToEnd.Tests;

/// <summary>
/// The nodes of a cluster may share one client token file and start at the same moment: exactly
/// one makes it, and every one of them serves with that token (a node that kept a token of its own
/// would refuse its peers and the clients).
/// </summary>
public sealed class ClientTokenFileRaceTests : IDisposable
{
    const int Starters = 4;
    readonly string _directory = Directory.CreateTempSubdirectory("rdmakv-client-token-race-").FullName;

    [Fact]
    public void StartersRacingToMakeASharedClientTokenFileAllGetTheSameTokenAndExactlyOneMadeIt()
    {
        for (int round = 0; round < 100; round++)
        {
            string file = Path.Combine(_directory, $"client-token-{round}");
            var made = new bool[Starters];
            var outcomes = StartingLine.Run(Starters, i => ClientTokenFile.LoadOrCreate(file, out made[i]));
            var tokens = outcomes.Select(o => o.Result).ToArray();
            var failures = outcomes.Select(o => o.Failure).ToArray();

            Assert.True(failures.All(f => f is null), $"round {round}: {failures.FirstOrDefault(f => f is not null)}");
            Assert.Single(made, m => m);
            Assert.Single(tokens.Distinct());
            Assert.Equal(tokens[0], File.ReadAllText(file).Trim());
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

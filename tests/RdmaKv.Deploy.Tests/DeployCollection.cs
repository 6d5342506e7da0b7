namespace RdmaKv.Deploy.Tests;

/// <summary>
/// Every deployment test, one at a time: they share one build of the Dockerfile's stage, and the
/// live tests own the host-wide names of the local cluster (namespaces, bridge, shared memory).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeployCollection : ICollectionFixture<PublishedBuild>
{
    public const string Name = "Deploy";
}

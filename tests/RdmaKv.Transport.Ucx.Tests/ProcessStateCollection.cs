namespace RdmaKv.Transport.Ucx.Tests;

/// <summary>
/// Tests that change UCX's process-wide state (the native environment, UCX's global log level
/// and log handlers) run here, alone: no other test's worker runs while they do, so none reads
/// an environment being rewritten or logs through a handler being pushed or popped.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessStateCollection
{
    public const string Name = "UCX process state";
}

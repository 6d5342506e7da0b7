namespace RdmaKv.Storage;

/// <summary>When a put or delete is on disk relative to its reply.</summary>
public enum DurabilityMode
{
    /// <summary>No log: only checkpoints (on an interval and at a clean shutdown) are on disk; a crash loses what came after the last one.</summary>
    None,
    /// <summary>Every write is appended to the log before its reply; the log is committed every few milliseconds, so a crash loses at most the last commit window.</summary>
    Async,
    /// <summary>The reply waits for the commit that holds the write; writers waiting together share one commit.</summary>
    Sync,
}

public static class DurabilityModes
{
    public static bool TryParse(string text, out DurabilityMode mode)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "none":
                mode = DurabilityMode.None;
                return true;
            case "async":
                mode = DurabilityMode.Async;
                return true;
            case "sync":
                mode = DurabilityMode.Sync;
                return true;
            default:
                mode = DurabilityMode.Async;
                return false;
        }
    }

    public static string Name(this DurabilityMode mode) => mode.ToString().ToLowerInvariant();
}

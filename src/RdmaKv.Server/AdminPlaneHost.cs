using Microsoft.Extensions.Logging;
using RdmaKv.Admin;

namespace RdmaKv.Server;

/// <summary>Starts the admin plane for the server binary, with the operator-facing messages.</summary>
static class AdminPlaneHost
{
    /// <summary>
    /// The started admin plane; null when it is turned off ("none"), or when the default address
    /// is taken (another node on this host has it: the node runs on and says how to pick another).
    /// Throws <see cref="IOException"/> when an address the operator asked for cannot be had.
    /// </summary>
    public static async Task<AdminPlane?> StartAsync(StorageNodeOptions options, bool urlsGiven, ILoggerFactory logs, CancellationToken cancel)
    {
        var log = logs.CreateLogger("RdmaKv.Admin");
        if (string.Equals(options.AdminUrls, "none", StringComparison.OrdinalIgnoreCase))
        {
            log.LogInformation("Admin plane is off (--admin-urls none)");
            return null;
        }
        var admin = AdminPlane.Create(options.AdminPlaneOptions(), logs);
        try
        {
            await admin.StartAsync(cancel);
        }
        catch (IOException e) when (!urlsGiven)
        {
            await admin.DisposeAsync();
            log.LogWarning("Admin plane not started: {Reason} Another node on this host may have it; pass --admin-urls http://127.0.0.1:PORT (or 'none')", e.Message);
            return null;
        }
        catch
        {
            await admin.DisposeAsync();
            throw;
        }
        if (admin.Token.Created)
            Console.WriteLine($"Admin token (shown only now; kept in {admin.Token.Path}): {admin.Token.Value}");
        else
            log.LogInformation("Admin token is in {Path}", admin.Token.Path);
        foreach (string url in admin.Addresses)
            log.LogInformation("Admin plane listening on {Url}: dashboard {Url}/, metrics {Url}/metrics, health {Url}/health/ready", url, url, url, url);
        return admin;
    }
}

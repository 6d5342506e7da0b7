using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RdmaKv.Admin;

/// <summary>
/// A node's admin plane: the HTTP API, /metrics, /health/live and /health/ready, and the
/// dashboard, on its own small web host. Start it before the node, <see cref="Attach"/> the node
/// once it is up, dispose it before the node stops.
/// </summary>
public sealed class AdminPlane : IAsyncDisposable
{
    public const string TokenPolicy = "admin-token";

    readonly WebApplication _app;
    int _disposed;

    AdminPlane(WebApplication app, AdminOptions options, AdminToken token)
    {
        _app = app;
        Options = options;
        Token = token;
    }

    public AdminOptions Options { get; }
    public AdminToken Token { get; }
    public NodeHolder Holder => _app.Services.GetRequiredService<NodeHolder>();
    public StatsSampler Sampler => _app.Services.GetRequiredService<StatsSampler>();
    public IServiceProvider Services => _app.Services;

    /// <summary>The addresses the admin plane listens on, with the ports it got (after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<string> Addresses =>
        [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];

    /// <summary>
    /// Builds the admin plane and loads or creates its token. <paramref name="configure"/> lets a
    /// test swap the server (e.g. for a TestServer).
    /// </summary>
    public static AdminPlane Create(AdminOptions options, ILoggerFactory? loggerFactory = null, Action<WebApplicationBuilder>? configure = null)
    {
        options.Validate();
        var token = options.TokenFile is null ? AdminToken.LoadOrCreate(options.DataDirectory) : AdminToken.LoadOrCreateFile(options.TokenFile);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(AdminPlane).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            // Into the server's log, without ASP.NET Core's line per request.
            builder.Logging.AddProvider(new ForwardingLoggerProvider(loggerFactory));
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            // A port that cannot be had reaches the node as an exception, which it reports in one
            // line and exits 3; the host's own multi-kilobyte "Hosting failed to start" would repeat it.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
            // An unready node answers each readiness probe 503 with what is missing; that is not a
            // failure, and a probe every few seconds during a recovery would log one each.
            builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);
        }
        // The server's own host owns Ctrl-C and SIGTERM; this one is started and stopped by it.
        builder.Services.AddSingleton<IHostLifetime, HostedLifetime>();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(token);
        services.AddSingleton<NodeHolder>();
        services.AddSingleton<StatsSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<StatsSampler>());
        services.AddSingleton<MetricsExporter>();
        services.AddProblemDetails();
        AdminProtection.AddHostFilter(services, options);
        AdminProtection.AddRateLimits(services, options);
        // The core of authentication only: AddAuthentication would bring in data protection, which
        // writes a key ring under the user's home directory that nothing here needs.
        services.AddWebEncoders();
        services.AddAuthenticationCore(o =>
        {
            o.AddScheme<BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
            o.DefaultScheme = BearerTokenHandler.SchemeName;
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(TokenPolicy, p => p.AddAuthenticationSchemes(BearerTokenHandler.SchemeName).RequireAuthenticatedUser());
        services.AddHealthChecks()
            .AddCheck<LiveCheck>("process", tags: [HealthEndpoints.LiveTag])
            .AddCheck<ReadyCheck>("node", tags: [HealthEndpoints.ReadyTag]);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseHostFiltering();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        // After authentication: a request with the admin token is not limited.
        app.UseRateLimiter();
        app.UseAuthorization();
        AdminEndpoints.Map(app);
        ClusterEndpoints.Map(app);
        HealthEndpoints.Map(app);
        DashboardEndpoints.Map(app);
        app.MapGet("/metrics", async (MetricsExporter metrics, CancellationToken cancel) =>
            TypedResults.Bytes(await metrics.RenderAsync(cancel), "text/plain; version=0.0.4; charset=utf-8"));
        return new AdminPlane(app, options, token);
    }

    /// <summary>Starts listening. Throws <see cref="IOException"/> when an address is taken.</summary>
    public Task StartAsync(CancellationToken cancel = default) => _app.StartAsync(cancel);

    public void Attach(IAdminNode node)
    {
        Holder.Attach(node);
        Sampler.SampleOnce();
    }

    /// <summary>Lets go of the node: from now on, endpoints that need it answer 503.</summary>
    public void Detach() => Holder.Detach();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Detach();
        try
        {
            await _app.StopAsync(CancellationToken.None);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }

    /// <summary>A lifetime that does nothing: no signal handlers, no console messages.</summary>
    sealed class HostedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

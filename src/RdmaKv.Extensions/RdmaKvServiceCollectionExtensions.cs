using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RdmaKv.Client;
using RdmaKv.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RdmaKv with an application's services.</summary>
public static class RdmaKvServiceCollectionExtensions
{
    /// <summary>
    /// Registers one shared <see cref="KvClient"/>, configured from <paramref name="configuration"/>
    /// (a section such as <c>configuration.GetSection("RdmaKv")</c> with the keys of
    /// <see cref="RdmaKvOptions"/>). The client connects when it is first resolved and is disposed with
    /// the container. The options are validated when the host starts.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">The configuration section to bind <see cref="RdmaKvOptions"/> from.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddRdmaKv(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RdmaKvOptions>().Bind(configuration);
        return AddClient(services);
    }

    /// <summary>
    /// Registers one shared <see cref="KvClient"/>, configured by <paramref name="configure"/>. The
    /// client connects when it is first resolved and is disposed with the container. The options are
    /// validated when the host starts.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets <see cref="RdmaKvOptions"/>, at least <see cref="RdmaKvOptions.Connect"/>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddRdmaKv(this IServiceCollection services, Action<RdmaKvOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RdmaKvOptions>().Configure(configure);
        return AddClient(services);
    }

    /// <summary>
    /// Registers <see cref="RdmaKvCache"/> as the application's <see cref="IDistributedCache"/> (which
    /// session state, output caching and HybridCache use), on the client that
    /// <see cref="AddRdmaKv(IServiceCollection, IConfiguration)"/> registers. A <see cref="TimeProvider"/>
    /// in the container is the cache's clock; otherwise it uses the system clock.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets <see cref="RdmaKvCacheOptions"/>, e.g. the instance name; null for none.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddRdmaKvDistributedCache(this IServiceCollection services, Action<RdmaKvCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<RdmaKvCacheOptions>();
        if (configure is not null) options.Configure(configure);
        return AddCache(services);
    }

    /// <summary>
    /// Registers <see cref="RdmaKvCache"/> as the application's <see cref="IDistributedCache"/>, with
    /// its <see cref="RdmaKvCacheOptions"/> bound from <paramref name="configuration"/> (e.g. an
    /// <c>InstanceName</c> key).
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">The configuration section to bind <see cref="RdmaKvCacheOptions"/> from.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddRdmaKvDistributedCache(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RdmaKvCacheOptions>().Bind(configuration);
        return AddCache(services);
    }

    static IServiceCollection AddCache(IServiceCollection services)
    {
        AddClient(services);
        services.TryAddSingleton(sp => new RdmaKvCache(
            sp.GetRequiredService<KvClientSource>(),
            sp.GetRequiredService<IOptions<RdmaKvCacheOptions>>().Value,
            sp.GetService<TimeProvider>()));
        // Added, not tried: the last distributed cache registered is the one resolved (as with Redis).
        services.AddSingleton<IDistributedCache>(sp => sp.GetRequiredService<RdmaKvCache>());
        return services;
    }

    /// <summary>The shared client and what checks its options; every registration calls it, and it adds each once.</summary>
    internal static IServiceCollection AddClient(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(KvClientSource))) return services;
        services.AddOptions<RdmaKvOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RdmaKvOptions>, RdmaKvOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RdmaKvOptions>>().Value;
            return KvClient.Connect(options.Connect!, options.ToClientOptions());
        });
        services.AddSingleton(sp => new KvClientSource(sp));
        return services;
    }
}

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

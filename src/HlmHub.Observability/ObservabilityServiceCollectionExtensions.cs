using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HlmHub.Observability;

/// <summary>Registers <see cref="HubMetrics"/>; safe to call from every project that records on it (the host, the issuer, reconciliation).</summary>
public static class ObservabilityServiceCollectionExtensions
{
    public static IServiceCollection AddHubMetrics(this IServiceCollection services)
    {
        // The meter factory ties each meter to its service provider: a test host's meters end with that host.
        services.AddMetrics();
        services.TryAddSingleton<HubMetrics>();
        return services;
    }
}

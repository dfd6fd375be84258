using HlmHub.Server.Features.Admin;
using HlmHub.Server.Features.Demo;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HlmHub.Server.Features;

/// <summary>
/// The hub's features, each in its own folder. Every feature registers its services and maps its
/// gRPC service here, so Program.cs stays a short list of building blocks.
/// </summary>
internal static class HubFeatures
{
    public static IServiceCollection AddHubFeatures(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        // Demo: the seeder is always available (for the CLI); --seed-demo runs it once the hub has started.
        services.TryAddSingleton<DemoSeeder>();
        if (configuration.GetValue<bool>(DemoCommandLine.SeedOnStartKey))
        {
            services.AddHostedService<DemoSeedOnStartService>();
        }

        return services;
    }

    public static IEndpointRouteBuilder MapHubFeatures(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<AdminService>();
        return endpoints;
    }
}

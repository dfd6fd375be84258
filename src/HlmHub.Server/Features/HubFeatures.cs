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
        return services;
    }

    public static IEndpointRouteBuilder MapHubFeatures(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}

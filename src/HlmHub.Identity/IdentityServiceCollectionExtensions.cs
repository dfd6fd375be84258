using Grpc.AspNetCore.Server;
using HlmHub.Identity.Authorization;
using HlmHub.Identity.Internal;
using HlmHub.Identity.Issuer;
using HlmHub.Identity.ResourceServer;
using HlmHub.Observability;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity;

/// <summary>Registers Identity: the embedded issuer, the token validator and the per-rpc security contract.</summary>
public static class IdentityServiceCollectionExtensions
{
    /// <summary>
    /// Registers, from the <c>Auth</c> section: the resource server (JwtBearer per trusted issuer), the per-rpc
    /// authorization policies with a deny-all fallback, <see cref="IClientRegistry"/>,
    /// <see cref="ISigningKeyRotation"/>, <see cref="IIdentityBootstrapper"/> and a hosted service that bootstraps
    /// the first administrator once the server has started. Needs <c>AddHlmHubStorage</c>.
    /// </summary>
    public static IServiceCollection AddHlmHubIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AuthOptions>()
            .Bind(configuration.GetSection(AuthOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddHubMetrics();
        services.TryAddSingleton<EmbeddedIssuerUrl>();
        services.TryAddSingleton<IEmbeddedIssuerAddress>(provider => provider.GetRequiredService<EmbeddedIssuerUrl>());
        services.TryAddSingleton<SigningKeyManager>();
        services.TryAddSingleton<ISigningKeyRotation>(provider => provider.GetRequiredService<SigningKeyManager>());
        services.TryAddSingleton<IPublishedSigningKeys>(provider => provider.GetRequiredService<SigningKeyManager>());
        services.TryAddSingleton<FailedAuthenticationLimiter>();
        services.TryAddSingleton<IdentityLeases>();
        services.TryAddSingleton<IClientRegistry, OpenIddictClientRegistry>();
        services.TryAddSingleton<IIdentityBootstrapper, IdentityBootstrapper>();
        // The resource server (ASP.NET Core authentication) and the per-rpc contracts (ASP.NET Core authorization).
        var configured = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        services.AddHlmHubResourceServer(configured);
        services.AddHlmHubRpcAuthorization();
        services.AddHostedService<IdentityBootstrapHostedService>();
        // The clients live in OpenIddict's application store even when the hub trusts an external issuer, so the
        // admin API keeps working; the server itself answers only when the embedded issuer is enabled.
        IssuerRegistration.AddEmbeddedIssuer(services, configured.EmbeddedIssuer);
        return services;
    }

    /// <summary>
    /// Adds the interceptor that gives each rpc handler its <see cref="AuthenticatedCaller"/> and fails a call whose
    /// handler skipped its declared ownership check. Add it after the interceptor that maps exceptions to statuses.
    /// </summary>
    public static GrpcServiceOptions AddHlmHubCallerInterceptor(this GrpcServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Interceptors.Add<RpcCallerInterceptor>();
        return options;
    }

    /// <summary>
    /// Maps the embedded authorization server's endpoints, answered by OpenIddict: <c>/connect/token</c>,
    /// <c>/.well-known/openid-configuration</c>, <c>/.well-known/oauth-authorization-server</c> and
    /// <c>/.well-known/jwks</c>. Map them where the host serves HTTP/1.1, and let them through authorization
    /// (<c>AllowAnonymous</c>): clients authenticate to the token endpoint with their own credentials. Maps nothing
    /// when the embedded issuer is disabled.
    /// </summary>
    public static IEndpointRouteBuilder MapHlmHubIdentityEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value.EmbeddedIssuer.Enabled)
        {
            IssuerEndpoints.Map(endpoints);
        }

        return endpoints;
    }
}

using HlmHub.Identity.Internal;
using HlmHub.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HlmHub.Identity.Authorization;

/// <summary>Registers the per-rpc contracts as ASP.NET Core authorization.</summary>
internal static class AuthorizationRegistration
{
    public static IServiceCollection AddHlmHubRpcAuthorization(this IServiceCollection services)
    {
        // Default deny: an endpoint that declares no policy (nor AllowAnonymous) is refused.
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().AddRequirements(new UndeclaredEndpointRequirement()).Build());
        services.AddSingleton<IAuthorizationPolicyProvider, RpcPolicyProvider>();
        services.AddSingleton<IAuthorizationHandler, RpcRequirementHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, GrpcAuthorizationResultHandler>();
        services.AddSingleton<RpcCallerInterceptor>();
        services.TryAddSingleton<DeniedCallLog>();
        ShareStatelessAuthorizationServices(services);

        // Ownership before the first write: every context the factory creates carries the guard.
        services.AddSingleton<OwnershipWriteGuard>();
        services.ConfigureDbContext<HlmHubDbContext>(
            (provider, options) => options.AddInterceptors(provider.GetRequiredService<OwnershipWriteGuard>()),
            ServiceLifetime.Singleton);
        return services;
    }

    /// <summary>
    /// ASP.NET Core registers the authorization services transient, so the authorization middleware builds them
    /// again on every call (the policy evaluator, the authorization service, its handler provider, evaluator and
    /// context factory, the pass-through handler). None keeps state from one call to the next, and every service they
    /// depend on is a singleton here, so one instance of each serves every call: allocations every rpc paid for nothing
    /// (docs/benchmarks.md, transport). The implementations stay ASP.NET Core's own.
    /// </summary>
    private static void ShareStatelessAuthorizationServices(IServiceCollection services)
    {
        Type[] stateless =
        [
            typeof(IPolicyEvaluator),
            typeof(IAuthorizationService),
            typeof(IAuthorizationHandlerProvider),
            typeof(IAuthorizationEvaluator),
            typeof(IAuthorizationHandlerContextFactory),
        ];
        for (var index = 0; index < services.Count; index++)
        {
            if (services[index] is { Lifetime: ServiceLifetime.Transient, IsKeyedService: false, ImplementationType: { } implementation } descriptor
                && (stateless.Contains(descriptor.ServiceType)
                    || (descriptor.ServiceType == typeof(IAuthorizationHandler) && implementation == typeof(PassThroughAuthorizationHandler))))
            {
                services[index] = ServiceDescriptor.Singleton(descriptor.ServiceType, implementation);
            }
        }
    }
}

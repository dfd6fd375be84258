using HlmHub.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

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

        // Ownership before the first write: every context the factory creates carries the guard.
        services.AddHttpContextAccessor();
        services.AddSingleton<OwnershipWriteGuard>();
        services.ConfigureDbContext<HlmHubDbContext>(
            (provider, options) => options.AddInterceptors(provider.GetRequiredService<OwnershipWriteGuard>()),
            ServiceLifetime.Singleton);
        return services;
    }
}

using HlmHub.Identity.ResourceServer;
using Microsoft.AspNetCore.Authorization;

namespace HlmHub.Identity.Authorization;

/// <summary>What an rpc's <see cref="RpcPolicyAttribute"/> requires of the token: a scope and a caller kind.</summary>
internal sealed record RpcRequirement(string Scope, CallerKind Caller, Ownership Ownership) : IAuthorizationRequirement;

/// <summary>
/// Checks an <see cref="RpcRequirement"/> against the caller the resource server read from the token. Each
/// failure carries its reason, which the denial audit logs and the client reads in the status message.
/// </summary>
internal sealed class RpcRequirementHandler : AuthorizationHandler<RpcRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RpcRequirement requirement)
    {
        if (CallerClaimsIdentity.Find(context.User) is not { } caller)
        {
            // Not authenticated: the policy evaluator turns this into a challenge (UNAUTHENTICATED).
            return Task.CompletedTask;
        }

        if (!caller.Scopes.Contains(requirement.Scope))
        {
            context.Fail(new AuthorizationFailureReason(this, $"the token lacks scope '{requirement.Scope}'"));
        }
        else if (caller.Kind == CallerKind.None || (requirement.Caller & caller.Kind) == 0)
        {
            var kind = caller.Kind == CallerKind.None ? "unbound" : caller.Kind.ToString();
            context.Fail(new AuthorizationFailureReason(this, $"{kind} clients may not call this rpc (it needs {requirement.Caller})"));
        }
        else
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>The fallback policy's only requirement: never met, so an endpoint that declares nothing is refused.</summary>
internal sealed class UndeclaredEndpointRequirement : AuthorizationHandler<UndeclaredEndpointRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, UndeclaredEndpointRequirement requirement)
    {
        context.Fail(new AuthorizationFailureReason(this, "the endpoint declares no authorization policy"));
        return Task.CompletedTask;
    }
}

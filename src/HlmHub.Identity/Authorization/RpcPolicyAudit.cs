using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;

namespace HlmHub.Identity.Authorization;

/// <summary>
/// Default deny, checked before the server starts: every gRPC method endpoint must carry an
/// <see cref="RpcPolicyAttribute"/>, or be one of the standard anonymous services (health, reflection) mapped
/// with <c>AllowAnonymous()</c>. A missing declaration stops the hub with one line naming every offending rpc,
/// instead of an rpc that the fallback policy would silently refuse (or, worse, one that a broad
/// <c>[Authorize]</c> would let any client call).
/// </summary>
public static class RpcPolicyAudit
{
    /// <summary>The services that may be served without a token: they expose no data.</summary>
    public static readonly IReadOnlySet<string> AnonymousServices = new HashSet<string>(StringComparer.Ordinal)
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    };

    /// <summary>
    /// Checks every endpoint mapped so far on <paramref name="endpoints"/> (its data sources, since the
    /// routing <see cref="EndpointDataSource"/> in DI is still empty before start-up).
    /// </summary>
    /// <exception cref="InvalidOperationException">A gRPC method declares no policy, or is anonymous without being on the list.</exception>
    public static void VerifyEveryRpcDeclaresItsPolicy(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var problems = new List<string>();
        foreach (var endpoint in endpoints.DataSources.SelectMany(source => source.Endpoints))
        {
            // grpc-dotnet's "unimplemented method/service" endpoints carry no GrpcMethodMetadata: the fallback
            // policy covers them.
            if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not { } grpc)
            {
                continue;
            }

            var method = grpc.Method.FullName;
            var policies = endpoint.Metadata.GetOrderedMetadata<RpcPolicyAttribute>();
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var otherAuthorize = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(data => data is not RpcPolicyAttribute);
            if (anonymous)
            {
                if (!AnonymousServices.Contains(grpc.Method.ServiceName))
                {
                    problems.Add($"{method} is anonymous, but only {string.Join(", ", AnonymousServices)} may be");
                }
            }
            else if (policies.Count != 1)
            {
                problems.Add($"{method} declares no [RpcPolicy] (its scope, caller kind and ownership)");
            }
            else if (otherAuthorize)
            {
                problems.Add($"{method} adds an [Authorize] beside its [RpcPolicy]: state the whole rule in the [RpcPolicy]");
            }
            else if (string.IsNullOrWhiteSpace(policies[0].Scope) || policies[0].Scope.Contains(' ', StringComparison.Ordinal)
                || policies[0].Scope.Contains(':', StringComparison.Ordinal))
            {
                problems.Add($"{method}: [RpcPolicy] needs exactly one scope");
            }
            else if (policies[0].Caller == CallerKind.None)
            {
                problems.Add($"{method}: [RpcPolicy] allows no caller kind");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException("Every rpc must declare its security contract: " + string.Join("; ", problems) + ".");
        }
    }
}

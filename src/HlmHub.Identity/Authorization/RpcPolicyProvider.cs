using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Authorization;

/// <summary>
/// Builds the policy an <see cref="RpcPolicyAttribute"/> names (<c>hlmhub-rpc:{caller}:{ownership}:{scope}</c>) on
/// first use; every other name goes to ASP.NET Core's default provider. This is the part ASP.NET Core leaves to
/// us: a policy per combination of scope and caller kind, without registering each one by hand.
/// </summary>
internal sealed class RpcPolicyProvider(IOptions<AuthorizationOptions> options) : DefaultAuthorizationPolicyProvider(options)
{
    private readonly ConcurrentDictionary<string, AuthorizationPolicy> _policies = new(StringComparer.Ordinal);

    /// <summary>The policies depend on their name only, so the authorization middleware may cache them per endpoint.</summary>
    public override bool AllowsCachingPolicies => true;

    public override Task<AuthorizationPolicy?> GetPolicyAsync(string policyName)
    {
        if (TryParse(policyName, out var requirement))
        {
            return Task.FromResult<AuthorizationPolicy?>(_policies.GetOrAdd(policyName, static (_, requirement) =>
                new AuthorizationPolicyBuilder().AddRequirements(requirement).Build(), requirement));
        }

        return base.GetPolicyAsync(policyName);
    }

    internal static bool TryParse(string policyName, out RpcRequirement requirement)
    {
        requirement = null!;
        if (!policyName.StartsWith(RpcPolicyAttribute.PolicyPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = policyName[RpcPolicyAttribute.PolicyPrefix.Length..].Split(':', 3);
        if (parts.Length != 3
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var caller)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ownership))
        {
            return false;
        }

        requirement = new RpcRequirement(parts[2], (CallerKind)caller, (Ownership)ownership);
        return true;
    }
}

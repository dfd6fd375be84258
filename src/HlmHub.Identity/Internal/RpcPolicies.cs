using System.Collections.Concurrent;
using System.Reflection;
using HlmHub.Grpc;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>The declared rule of each mapped method, read once from its implementation's attribute.</summary>
internal sealed class RpcPolicies(IOptions<AuthOptions> options)
{
    private readonly ConcurrentDictionary<MethodInfo, RpcPolicyAttribute?> _policies = new();
    private readonly HashSet<string> _anonymousServices = new(options.Value.EffectiveAnonymousServices, StringComparer.Ordinal);

    public bool IsAnonymous(GrpcMethodDefinition method) => _anonymousServices.Contains(method.ServiceName);

    public RpcPolicyAttribute? Find(GrpcMethodDefinition method) =>
        _policies.GetOrAdd(method.Implementation, static m => m.GetCustomAttribute<RpcPolicyAttribute>(inherit: true));
}

/// <summary>Default deny: start-up fails for any mapped rpc that declares no <see cref="RpcPolicyAttribute"/>.</summary>
internal sealed class RpcPolicyMethodValidator(RpcPolicies policies) : IGrpcMethodValidator
{
    public void Validate(GrpcMethodDefinition method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (policies.IsAnonymous(method))
        {
            return;
        }
        var where = $"{method.ServiceType.FullName}.{method.Implementation.Name} (rpc {method.Path})";
        var policy = policies.Find(method)
            ?? throw new InvalidOperationException(
                $"{where} declares no [RpcPolicy]: every rpc must state its scope, caller kind and ownership, or its service must be listed in Auth:AnonymousServices.");
        if (string.IsNullOrWhiteSpace(policy.Scope) || policy.Scope.Contains(' ', StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{where}: [RpcPolicy] needs exactly one scope.");
        }
        if (policy.Caller == CallerKind.None)
        {
            throw new InvalidOperationException($"{where}: [RpcPolicy] allows no caller kind.");
        }
    }
}

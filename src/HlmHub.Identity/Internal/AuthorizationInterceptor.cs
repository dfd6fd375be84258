using HlmHub.Grpc;
using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Internal;

/// <summary>
/// Authenticates every call of a non-anonymous service from its bearer token and authorizes it against the
/// rpc's declared scope and caller kind, before the request is read; the handler then finds the caller with
/// <see cref="CallerContextExtensions.GetCaller"/>. After the handler, fails the call if the rpc declared an
/// ownership rule that the handler never checked.
/// </summary>
internal sealed class AuthorizationInterceptor(
    RpcPolicies policies,
    AccessTokenValidator validator,
    TimeProvider timeProvider,
    ILogger<AuthorizationInterceptor> logger) : IServerCallInterceptor
{
    private const string BearerPrefix = "Bearer ";

    public async Task InterceptAsync(ServerCallContext context, ServerCallContinuation next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var method = context.MethodDefinition;
        if (policies.IsAnonymous(method))
        {
            await next(context);
            return;
        }
        var auditor = new CallAuditor(logger, timeProvider, method.Path);
        var policy = policies.Find(method);
        if (policy is null)
        {
            // Unreachable when the method validator ran at start-up; denying keeps the default deny anyway.
            auditor.Denied("anonymous", "the rpc declares no policy");
            throw new RpcException(StatusCode.PermissionDenied, "Permission denied: this rpc declares no security policy.");
        }

        var token = ReadBearerToken(context);
        if (token is null)
        {
            auditor.Denied("anonymous", "no bearer token");
            throw new RpcException(StatusCode.Unauthenticated, "Missing access token: send 'authorization: Bearer <token>'.");
        }
        var outcome = await validator.ValidateAsync(token, context.CancellationToken);
        if (outcome.Caller is not { } identity)
        {
            auditor.Denied("anonymous", outcome.Failure ?? "invalid token");
            throw new RpcException(StatusCode.Unauthenticated, $"Invalid access token: {outcome.Failure}.");
        }
        if (!identity.Scopes.Contains(policy.Scope))
        {
            auditor.Denied(identity.ClientId, $"scope {policy.Scope} not granted");
            throw new RpcException(StatusCode.PermissionDenied, $"Permission denied: the token lacks scope '{policy.Scope}'.");
        }
        if (identity.Kind == CallerKind.None || (policy.Caller & identity.Kind) == 0)
        {
            auditor.Denied(identity.ClientId, $"caller kind {identity.Kind} not allowed (needs {policy.Caller})");
            throw new RpcException(StatusCode.PermissionDenied, $"Permission denied: {KindName(identity.Kind)} clients may not call this rpc.");
        }

        var caller = new AuthenticatedCaller(identity, policy, auditor);
        context.UserState[CallerContextExtensions.UserStateKey] = caller;
        await next(context);

        if (policy.Ownership != Ownership.None && !caller.OwnershipChecked)
        {
            // The handler has already run: this cannot undo what it did, but it makes the missing check fail
            // loudly (an error log and a failed call) in the first test that exercises the rpc.
            IdentityLog.OwnershipNotChecked(logger, method.Path, policy.Ownership);
            throw new RpcException(StatusCode.Internal, "The server failed to check ownership for this rpc.");
        }
    }

    private static string KindName(CallerKind kind) => kind == CallerKind.None ? "unbound" : kind.ToString();

    private static string? ReadBearerToken(ServerCallContext context)
    {
        var header = context.HttpContext.Request.Headers.Authorization;
        if (header.Count != 1)
        {
            return null;
        }
        var value = header[0];
        if (value is null || !value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var token = value[BearerPrefix.Length..].Trim();
        return token.Length == 0 ? null : token;
    }
}

using Grpc.Core;
using Grpc.Core.Interceptors;
using HlmHub.Identity.Internal;
using HlmHub.Identity.ResourceServer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Authorization;

/// <summary>
/// Runs after the authorization middleware accepted a call (grpc-dotnet interceptors always do): hands the
/// handler its <see cref="AuthenticatedCaller"/> (<see cref="CallerContextExtensions.GetCaller"/>), bound to the
/// rpc's <see cref="RpcPolicyAttribute"/>. After the handler, it is the safety net: an rpc that declared an
/// ownership rule and returned without checking it fails loudly. The rule that matters, checking before the
/// first write, is held by <see cref="OwnershipWriteGuard"/>.
/// </summary>
internal sealed class RpcCallerInterceptor(
    TimeProvider timeProvider, IOptions<AuthOptions> options, RevokedClientTokens revokedTokens, DeniedCallLog deniedCalls, ILogger<RpcCallerInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var caller = Attach(context);
        var response = await continuation(request, context);
        VerifyOwnershipChecked(context, caller);
        return response;
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var caller = Attach(context);
        using var expiry = ExpiryOf(caller, context);
        using var reader = expiry is null ? null : new ExpiringStreamReader<TRequest>(requestStream, expiry);
        var response = await continuation(reader ?? requestStream, context);
        VerifyOwnershipChecked(context, caller);
        return response;
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var caller = Attach(context);
        using var expiry = ExpiryOf(caller, context);
        await continuation(request, expiry is null ? responseStream : new ExpiringStreamWriter<TResponse>(responseStream, expiry), context);
        VerifyOwnershipChecked(context, caller);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var caller = Attach(context);
        using var expiry = ExpiryOf(caller, context);
        using var reader = expiry is null ? null : new ExpiringStreamReader<TRequest>(requestStream, expiry);
        await continuation(reader ?? requestStream, expiry is null ? responseStream : new ExpiringStreamWriter<TResponse>(responseStream, expiry), context);

        VerifyOwnershipChecked(context, caller);
    }

    /// <summary>
    /// A stream authorized by a token ends when the token does: its <c>exp</c>, with the clock skew every token is
    /// validated with, or sooner when a token of the embedded issuer is revoked meanwhile (its client disabled, or its
    /// secret rotated) (anonymous standard services have no token to outlive).
    /// </summary>
    private TokenExpiry? ExpiryOf(AuthenticatedCaller? caller, ServerCallContext context)
    {
        if (caller is null)
        {
            return null;
        }

        var expiry = new TokenExpiry(caller.Identity.ExpiresAt + options.Value.ClockSkew, timeProvider);
        if (context.GetHttpContext().User.Identity is CallerClaimsIdentity { AuthenticationType: HubAuthentication.EmbeddedScheme })
        {
            expiry.DisposeWithThis(revokedTokens.Track(caller.ClientId, caller.Identity.SecretRotatedAt, expiry));
        }

        caller.ExpiresWith(expiry);
        return expiry;
    }

    private AuthenticatedCaller? Attach(ServerCallContext context)
    {
        var httpContext = context.GetHttpContext();
        if (httpContext.GetEndpoint()?.Metadata.GetMetadata<RpcPolicyAttribute>() is not { } policy)
        {
            // An anonymous standard service (health, reflection): the start-up audit allows nothing else.
            return null;
        }

        var identity = CallerClaimsIdentity.Find(httpContext.User)
            ?? throw new InvalidOperationException($"{context.Method} passed authorization without an authenticated caller.");
        var caller = new AuthenticatedCaller(identity, policy, new CallAuditor(logger, deniedCalls, httpContext.Connection.RemoteIpAddress, context.Method));
        httpContext.Features.Set(caller);
        if (policy.Ownership != Ownership.None)
        {
            // Set within this interceptor's async method, so it flows into the handler and ends with the call.
            OwnershipWriteGuard.GuardWritesOf(caller, httpContext);
        }

        return caller;
    }

    private void VerifyOwnershipChecked(ServerCallContext context, AuthenticatedCaller? caller)
    {
        if (caller is { Policy.Ownership: not Ownership.None, OwnershipChecked: false })
        {
            // The handler has already run: this cannot undo a read, but it makes the missing check fail loudly
            // (an error log and a failed call) in the first test that exercises the rpc.
            IdentityLog.OwnershipNotChecked(logger, context.Method, caller.Policy.Ownership);
            throw new RpcException(new Status(StatusCode.Internal, "The server failed to check ownership for this rpc."));
        }
    }
}

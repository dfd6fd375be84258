using System.Threading.RateLimiting;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// The token request rate, in front of OpenIddict's client authentication (OpenIddict has none): per (client id,
/// remote address), bursts of <see cref="EmbeddedIssuerOptions.MaxTokenRequestsPerClientPerMinute"/> requests, then
/// that many a minute, evenly spread; past it, 429 with <c>Retry-After</c> before any secret is hashed.
/// Counted per pair, as failures are (<see cref="FailedAuthenticationGate"/>), so a stranger claiming a client's id
/// from another address spends only its own allowance. Requests that claim no registered client share one
/// allowance per address: the pairs held in memory are bounded by the registered clients' addresses, not by the ids
/// strangers make up. A token bucket per pair from System.Threading.RateLimiting (which keeps its own time, not the
/// injected TimeProvider), forgotten once idle.
/// </summary>
internal sealed class TokenRequestRateGate : IOpenIddictServerHandler<ValidateTokenRequestContext>, IDisposable
{
    private readonly PartitionedRateLimiter<(string ClientId, string Address)> _limiter;
    private readonly int _perMinute;

    public TokenRequestRateGate(IOptions<AuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _perMinute = options.Value.EmbeddedIssuer.MaxTokenRequestsPerClientPerMinute;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = _perMinute,
            // One request back every 1/perMinute of a minute (200 ms at 300): Retry-After says how long that is.
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / _perMinute,
            // Refused at once, never queued; replenished by the partitioned limiter's heartbeat, not a timer per pair.
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        _limiter = PartitionedRateLimiter.Create<(string ClientId, string Address), (string, string)>(
            key => RateLimitPartition.GetTokenBucketLimiter(key, _ => bucket));
    }

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<TokenRequestRateGate>()
            // After the failed-authentication gate (a blocked pair is refused there, uncounted here), before the
            // client is authenticated.
            .SetOrder(FailedAuthenticationGate.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsRejected || context.Transaction.GetHttpRequest() is not { } request)
        {
            return;
        }

        // OpenIddict's application manager caches what it finds: this costs far less than the secret check it guards.
        var clientId = TokenRequestClient.IdForLimits(context.Request);
        var registered = clientId is not null
            && request.HttpContext.RequestServices.GetService<IOpenIddictApplicationManager>() is { } applications
            && await applications.FindByClientIdAsync(clientId, context.CancellationToken) is not null;
        var key = (registered ? clientId! : "", AddressPartitions.Key(request.HttpContext.Connection.RemoteIpAddress));
        using var lease = _limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1) / _perMinute;
        await TokenErrors.WriteAsync(request.HttpContext, StatusCodes.Status429TooManyRequests, OpenIddictConstants.Errors.InvalidRequest,
            $"Too many token requests from this client: at most {_perMinute} a minute (Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute). "
                + "A token is valid until its expires_in runs out: keep it and reuse it.",
            retryAfter);
        context.HandleRequest();
    }

    public void Dispose() => _limiter.Dispose();
}

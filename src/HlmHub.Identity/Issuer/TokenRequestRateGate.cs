using System.Threading.RateLimiting;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// The token request rate, in front of OpenIddict's client authentication (OpenIddict has none): at most
/// <see cref="EmbeddedIssuerOptions.MaxTokenRequestsPerClientPerMinute"/> requests per (claimed client id, remote
/// address) in a minute, successful or not; past it, 429 with <c>Retry-After</c> before any secret is hashed. Counted
/// per pair, as failures are (<see cref="FailedAuthenticationGate"/>), so a stranger claiming a client's id spends
/// only its own allowance. A fixed window per pair from System.Threading.RateLimiting, forgotten once idle.
/// </summary>
internal sealed class TokenRequestRateGate : IOpenIddictServerHandler<ValidateTokenRequestContext>, IDisposable
{
    private readonly PartitionedRateLimiter<(string ClientId, string Address)> _limiter;
    private readonly int _perMinute;

    public TokenRequestRateGate(IOptions<AuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _perMinute = options.Value.EmbeddedIssuer.MaxTokenRequestsPerClientPerMinute;
        var window = new FixedWindowRateLimiterOptions
        {
            PermitLimit = _perMinute,
            Window = TimeSpan.FromMinutes(1),
            // Refused at once, never queued; the partitioned limiter's heartbeat opens each pair's next window.
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        _limiter = PartitionedRateLimiter.Create<(string ClientId, string Address), (string, string)>(
            key => RateLimitPartition.GetFixedWindowLimiter(key, _ => window));
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

        var key = (TokenRequestClient.IdForLimits(context.Request) ?? "", AddressPartitions.Key(request.HttpContext.Connection.RemoteIpAddress));
        using var lease = _limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var window) ? window : TimeSpan.FromMinutes(1);
        await TokenErrors.WriteAsync(request.HttpContext, StatusCodes.Status429TooManyRequests, OpenIddictConstants.Errors.InvalidRequest,
            $"Too many token requests from this client: at most {_perMinute} a minute (Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute). "
                + "A token is valid until its expires_in runs out: keep it and reuse it.",
            retryAfter);
        context.HandleRequest();
    }

    public void Dispose() => _limiter.Dispose();
}

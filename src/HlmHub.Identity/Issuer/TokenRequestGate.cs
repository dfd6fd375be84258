using System.Globalization;
using System.Net;
using System.Text.Json;
using HlmHub.Identity.Internal;
using HlmHub.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using HlmHub.Storage.Identity;
using Microsoft.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// What the hub puts in front of OpenIddict's token endpoint, which has no such limits of its own: a bound on the
/// request body (<see cref="EmbeddedIssuerOptions.MaxTokenRequestBytes"/>), read before OpenIddict reads the form.
/// </summary>
internal sealed class TokenRequestSizeHandler(IOptions<AuthOptions> options) : IOpenIddictServerHandler<ProcessRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler<TokenRequestSizeHandler>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ExtractTokenRequest.Descriptor.Order - 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.EndpointType != OpenIddictServerEndpointType.Token || context.Transaction.GetHttpRequest() is not { } request)
        {
            return;
        }
        var limit = options.Value.EmbeddedIssuer.MaxTokenRequestBytes;
        if (request.ContentLength > limit)
        {
            await TokenErrors.WriteAsync(request.HttpContext, StatusCodes.Status413PayloadTooLarge, OpenIddictConstants.Errors.InvalidRequest,
                $"The token request is larger than {limit} bytes.", retryAfter: null);
            context.HandleRequest();
            return;
        }
        // A body without Content-Length (chunked) is cut at the same size by Kestrel.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }
    }
}

/// <summary>
/// The failed-authentication limit, around OpenIddict's client authentication (OpenIddict has none): a request
/// from a blocked (client, address) pair or address gets 429 before any secret or assertion is checked, and
/// every <c>invalid_client</c> answer OpenIddict gives is counted (<see cref="FailedAuthenticationRecorder"/>).
/// Also refuses a repeated parameter, which RFC 6749 §3.2 forbids and OpenIddict would read as an array.
/// </summary>
internal sealed class FailedAuthenticationGate(FailedAuthenticationLimiter limiter, ILogger<FailedAuthenticationGate> logger)
    : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
            .UseSingletonHandler<FailedAuthenticationGate>()
            .SetOrder(OpenIddictServerHandlers.Exchange.ValidateGrantType.Descriptor.Order - 1000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Transaction.GetHttpRequest() is not { } request)
        {
            return;
        }
        var address = request.HttpContext.Connection.RemoteIpAddress;
        var clientId = TokenRequestClient.IdForLimits(context.Request);
        if (limiter.Refuse(clientId, address) is { } refusal)
        {
            if (refusal.First)
            {
                // Once per block, not per refused request: a caller in a loop would fill the log. Unchecked here (no
                // lookup per refused request): the claimed id is logged by its fingerprint only.
                IdentityLog.TokenRequestsRateLimited(logger, address?.ToString() ?? "unknown", TokenRequestClient.ForLog(clientId, registered: false),
                    (long)Math.Ceiling(refusal.RetryAfter.TotalSeconds));
            }
            await TokenErrors.WriteAsync(request.HttpContext, StatusCodes.Status429TooManyRequests, OpenIddictConstants.Errors.InvalidClient,
                "Too many failed client authentications: retry later.", refusal.RetryAfter);
            context.HandleRequest();
            return;
        }
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(context.CancellationToken);
            if (form.FirstOrDefault(parameter => parameter.Value.Count > 1) is { Key: { } repeated })
            {
                context.Reject(OpenIddictConstants.Errors.InvalidRequest, $"Parameter '{repeated}' is repeated.");
            }
        }
    }
}

/// <summary>
/// Counts and logs every failed client authentication OpenIddict answers (<c>invalid_client</c>). A client
/// assertion OpenIddict refuses for its audience or its issuer comes back as <c>invalid_token</c> or
/// <c>invalid_grant</c> (400); it is a failed client authentication all the same (RFC 7523 §3.2), so it is
/// answered and counted as <c>invalid_client</c> (401): otherwise assertions could be tried without limit.
/// </summary>
internal sealed class FailedAuthenticationRecorder(FailedAuthenticationLimiter limiter, ILogger<FailedAuthenticationGate> logger)
    : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<FailedAuthenticationRecorder>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!string.IsNullOrEmpty(context.Request?.ClientAssertion)
            && context.Response.Error is OpenIddictConstants.Errors.InvalidToken or OpenIddictConstants.Errors.InvalidGrant)
        {
            context.Response.Error = OpenIddictConstants.Errors.InvalidClient;
        }
        if (context.Response.Error == OpenIddictConstants.Errors.InvalidClient)
        {
            var address = context.Transaction.GetHttpRequest()?.HttpContext.Connection.RemoteIpAddress;
            var clientId = TokenRequestClient.IdForLimits(context.Request);
            limiter.RecordFailure(clientId, address);
            // The claimed id is logged only when a client has it: a caller that swapped its id and secret must not
            // get the secret written to the log. OpenIddict's description names the failure (unknown client, wrong
            // secret, bad assertion); it never contains the secret or the assertion.
            var registered = clientId is not null
                && context.Transaction.GetHttpRequest()?.HttpContext.RequestServices.GetService<IOpenIddictApplicationManager>() is { } applications
                && await applications.FindByClientIdAsync(clientId, context.CancellationToken) is not null;
            IdentityLog.ClientAuthenticationFailed(logger, address?.ToString() ?? "unknown", TokenRequestClient.ForLog(clientId, registered), context.Response.ErrorDescription ?? "");
            if (clientId is not null && !registered && string.IsNullOrEmpty(context.Request?.ClientAssertion))
            {
                // OpenIddict answers an unknown client_id with its own text (ID2052), a wrong secret with another
                // (ID2055): anyone could list which client ids exist. The caller gets the wrong secret's answer; the
                // log above keeps which it was. (A bad assertion already gets one answer, whoever it claims to be.)
                context.Response.ErrorDescription = OpenIddictResources.GetResourceString(OpenIddictResources.ID2055);
                context.Response.ErrorUri = OpenIddictResources.FormatID8000(OpenIddictResources.ID2055);
            }
        }
    }
}

/// <summary>Which client a token request claims to be, before any check: what the limits count against.</summary>
internal static class TokenRequestClient
{
    /// <summary>The longest client id counted as such; a longer one counts as unknown (no registered id is longer).</summary>
    private const int MaxLength = ClientAssertionUse.ClientIdMaxLength;

    public static string? IdForLimits(OpenIddictRequest? request)
    {
        if (request is null)
        {
            return null;
        }
        var clientId = request.ClientId;
        if (string.IsNullOrEmpty(clientId) && request.ClientAssertion is { Length: > 0 } assertion)
        {
            // Unverified: the assertion's issuer only tells which counter to charge, as a Basic user name would.
            try
            {
                clientId = new JsonWebToken(assertion).Issuer;
            }
            catch (ArgumentException)
            {
                clientId = null;
            }
        }
        return string.IsNullOrEmpty(clientId) || clientId.Length > MaxLength ? null : clientId;
    }

    /// <summary>
    /// A claimed client id as the logs may carry it. The caller chose it and nothing authenticated it: it may be a
    /// secret sent in the wrong field, or a line break forging a log line. So only the id of a registered client is
    /// written, and always with a fingerprint (the first 8 hex digits of its SHA-256), which is all that is written of
    /// any other: enough to tell repeated attempts apart and to match them with a known id, nothing to reuse.
    /// </summary>
    public static string ForLog(string? clientId, bool registered) =>
        clientId is null ? "unknown"
        : registered ? $"{clientId} ({Fingerprint(clientId)})"
        : $"(unregistered, {Fingerprint(clientId)})";

    private static string Fingerprint(string clientId) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(clientId)))[..8];
}

/// <summary>Writes an RFC 6749 §5.2 error for the answers the hub gives itself in front of OpenIddict.</summary>
internal static class TokenErrors
{
    public static async Task WriteAsync(HttpContext context, int status, string error, string description, TimeSpan? retryAfter)
    {
        // OpenIddict never sees these answers, so TokenRequestMetrics does not either; the form is unread (grant type unknown).
        context.RequestServices.GetService<HubMetrics>()?.RecordTokenRequest(grantType: null, clientKind: null, error);
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        if (retryAfter is { } delay)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(delay.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }
        context.Response.ContentType = "application/json;charset=UTF-8";
        await JsonSerializer.SerializeAsync(context.Response.Body,
            new Dictionary<string, string> { ["error"] = error, ["error_description"] = description },
            cancellationToken: context.RequestAborted);
    }
}

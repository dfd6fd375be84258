using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.ResourceServer;

/// <summary>Answers for a token validated before: its cached principal, without touching the token again.</summary>
internal sealed class CachedTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Task.FromResult(Context.Items.TryGetValue(HubAuthentication.CachedEntryKey, out var value) && value is ValidatedTokenCache.Entry entry
            ? AuthenticateResult.Success(new AuthenticationTicket(entry.Principal, entry.Scheme))
            : AuthenticateResult.NoResult());
}

/// <summary>
/// Answers for a request without a token (no result: anonymous) and for a token the router refused before
/// validation (failed, with the router's reason).
/// </summary>
internal sealed class RefusedTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Task.FromResult(HubAuthentication.FailureOf(Context) is { } reason
            ? AuthenticateResult.Fail(reason)
            : AuthenticateResult.NoResult());
}

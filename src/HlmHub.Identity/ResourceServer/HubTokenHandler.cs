using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// The default scheme, <c>hlmhub</c>: every access token comes here first. A token validated before is answered
/// from the cache, here, with its principal (what nearly every call carries: clients reuse a token for its
/// lifetime); a token refused by <see cref="TokenRouter"/> fails with its reason; no token is no result
/// (anonymous); any other token is handed to the JwtBearer scheme of its issuer. One handler for the cached path,
/// rather than a policy scheme forwarding to a cache scheme, because each scheme a request goes through costs a
/// handler and a claims transformation: the cached path is the cost every call pays (docs/benchmarks.md).
/// </summary>
internal sealed class HubTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenRouter router)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        router.SelectScheme(Context, out var cached) switch
        {
            HubAuthentication.CachedScheme => Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(cached!.Principal, cached.Scheme))),
            HubAuthentication.RefusedScheme => Task.FromResult(HubAuthentication.FailureOf(Context) is { } reason
                ? AuthenticateResult.Fail(reason)
                : AuthenticateResult.NoResult()),
            var scheme => Context.AuthenticateAsync(scheme),
        };

    // A challenge or a refusal goes to the issuer's scheme as the token would have (JwtBearer's WWW-Authenticate
    // answer over HTTP/1.1); without a token to route, the plain 401 or 403.
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        IssuerScheme() is { } scheme ? Context.ChallengeAsync(scheme, properties) : base.HandleChallengeAsync(properties);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        IssuerScheme() is { } scheme ? Context.ForbidAsync(scheme, properties) : base.HandleForbiddenAsync(properties);

    private string? IssuerScheme() =>
        router.SelectScheme(Context, out _) is var scheme && scheme is not (HubAuthentication.CachedScheme or HubAuthentication.RefusedScheme) ? scheme : null;
}

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
        router.Route(Request) switch
        {
            { Kind: TokenRouteKind.Cached, Cached: { } entry } => entry.Authenticated,
            { Kind: TokenRouteKind.Issuer, IssuerScheme: { } scheme } => Context.AuthenticateAsync(scheme),
            { Kind: TokenRouteKind.Refused, Refusal: { } reason } => Refuse(reason),
            _ => Task.FromResult(AuthenticateResult.NoResult()),
        };

    // A challenge or a refusal goes to the issuer's scheme as the token would have (JwtBearer's WWW-Authenticate
    // answer over HTTP/1.1); without a token to route, the plain 401 or 403.
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        IssuerScheme() is { } scheme ? Context.ChallengeAsync(scheme, properties) : base.HandleChallengeAsync(properties);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        IssuerScheme() is { } scheme ? Context.ForbidAsync(scheme, properties) : base.HandleForbiddenAsync(properties);

    private string? IssuerScheme() => router.Route(Request) is { Kind: TokenRouteKind.Issuer } route ? route.IssuerScheme : null;

    // The reason also goes where the issuers' schemes leave theirs, for the status message and the audit.
    private Task<AuthenticateResult> Refuse(string reason)
    {
        HubAuthentication.SetFailure(Context, reason);
        return Task.FromResult(AuthenticateResult.Fail(reason));
    }
}

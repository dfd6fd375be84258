using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace HlmHub.Identity.ResourceServer;

/// <summary>
/// The default scheme, <c>hlmhub</c>: every access token comes here first. A token validated before is answered
/// from the cache, here, with its prebuilt result (what nearly every call carries: clients reuse a token for its
/// lifetime); a token refused by <see cref="TokenRouter"/> fails with its reason; no token is no result
/// (anonymous); any other token is handed to the JwtBearer scheme of its issuer, which validates it.
/// <para>
/// One handler for the cached path, rather than a policy scheme forwarding to a cache scheme, because each scheme a
/// request goes through costs a handler and a claims transformation. And a plain <see cref="IAuthenticationHandler"/>
/// (ASP.NET Core's contract for a scheme's handler) rather than the <see cref="AuthenticationHandler{TOptions}"/> base
/// class, whose options, events, forwarding and logger this handler never uses but every call would build: the cached
/// path is the cost every call pays (docs/benchmarks.md, transport).
/// </para>
/// </summary>
internal sealed class HubTokenHandler(TokenRouter router) : IAuthenticationHandler
{
    // No token: the same answer for every anonymous request.
    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    private HttpContext _context = null!;

    public Task InitializeAsync(AuthenticationScheme scheme, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        return Task.CompletedTask;
    }

    public Task<AuthenticateResult> AuthenticateAsync() =>
        router.Route(_context.Request) switch
        {
            { Kind: TokenRouteKind.Cached, Cached: { } entry } => entry.Authenticated,
            { Kind: TokenRouteKind.Issuer, IssuerScheme: { } scheme } => _context.AuthenticateAsync(scheme),
            { Kind: TokenRouteKind.Refused, Refusal: { } reason } => Refuse(reason),
            _ => NoResult,
        };

    // A challenge or a refusal goes to the issuer's scheme as the token would have (JwtBearer's WWW-Authenticate
    // answer over HTTP/1.1); without a token to route, the plain 401 or 403.
    public Task ChallengeAsync(AuthenticationProperties? properties) =>
        IssuerScheme() is { } scheme ? _context.ChallengeAsync(scheme, properties) : Answer(StatusCodes.Status401Unauthorized);

    public Task ForbidAsync(AuthenticationProperties? properties) =>
        IssuerScheme() is { } scheme ? _context.ForbidAsync(scheme, properties) : Answer(StatusCodes.Status403Forbidden);

    private string? IssuerScheme() => router.Route(_context.Request) is { Kind: TokenRouteKind.Issuer } route ? route.IssuerScheme : null;

    private Task Answer(int status)
    {
        _context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    // The reason also goes where the issuers' schemes leave theirs, for the status message and the audit.
    private Task<AuthenticateResult> Refuse(string reason)
    {
        HubAuthentication.SetFailure(_context, reason);
        return Task.FromResult(AuthenticateResult.Fail(reason));
    }
}

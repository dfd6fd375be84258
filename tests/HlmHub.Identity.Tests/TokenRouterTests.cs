using System.Security.Claims;
using System.Text;
using HlmHub.Identity.Internal;
using HlmHub.Identity.ResourceServer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Tests;

/// <summary>The routing of bearer tokens alone (no I/O): who reads each token, and what the cached path costs.</summary>
public sealed class TokenRouterTests
{
    private const string EmbeddedIssuer = "https://hub.example/";

    private readonly ValidatedTokenCache _cache;
    private readonly TokenRouter _router;

    public TokenRouterTests()
    {
        var options = Options.Create(new AuthOptions { Issuer = EmbeddedIssuer });
        _cache = new ValidatedTokenCache(options, TimeProvider.System);
        _router = new TokenRouter(_cache, options, new IssuerSchemes(options.Value),
            new EmbeddedIssuerUrl(options, new ServiceCollection().BuildServiceProvider()), _published, _revoked);
    }

    private readonly RevokedClientTokens _revoked = new();

    private readonly PublishedKeys _published = new() { "key-1" };

    [Fact]
    public void TokenValidatedBefore_IsAnsweredByItsCacheEntry_WithoutAllocating()
    {
        var token = Jwt("ES256", "key-1", EmbeddedIssuer);
        _cache.Add(token, new ClaimsPrincipal(), HubAuthentication.EmbeddedScheme, "key-1", TimeProvider.System.GetUtcNow().AddHours(1));
        var request = Request(token);
        // Once first, so the measure counts the call and not its first compilation.
        _router.Route(request);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var route = _router.Route(request);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(TokenRouteKind.Cached, route.Kind);
        Assert.Equal(HubAuthentication.EmbeddedScheme, route.Cached?.Scheme);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void NewTokens_GoToTheirIssuersScheme_AndTokensThatCannotPass_AreRefusedWithTheirReason()
    {
        var none = _router.Route(new DefaultHttpContext().Request);
        var embedded = _router.Route(Request(Jwt("ES256", "key-1", EmbeddedIssuer)));
        var garbage = _router.Route(Request("not-a-jwt"));
        var hmac = _router.Route(Request(Jwt("HS256", "key-1", EmbeddedIssuer)));
        var stranger = _router.Route(Request(Jwt("ES256", "key-1", "https://stranger.example/")));

        Assert.Equal(TokenRoute.NoToken, none);
        Assert.Equal((TokenRouteKind.Issuer, HubAuthentication.EmbeddedScheme), (embedded.Kind, embedded.IssuerScheme));
        Assert.Equal((TokenRouteKind.Refused, "the token is not a well-formed JWT"), (garbage.Kind, garbage.Refusal));
        Assert.Equal((TokenRouteKind.Refused, "the token's algorithm is not allowed"), (hmac.Kind, hmac.Refusal));
        Assert.Equal((TokenRouteKind.Refused, "the token's issuer is not trusted"), (stranger.Kind, stranger.Refusal));
    }

    private static HttpRequest Request(string token)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Bearer " + token;
        return context.Request;
    }

    // Unsigned: the router reads the header and iss only to route, and never checks a signature.
    private static string Jwt(string algorithm, string keyId, string issuer) =>
        Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes($$"""{"alg":"{{algorithm}}","kid":"{{keyId}}","typ":"at+jwt"}""")) + "."
        + Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes($$"""{"iss":"{{issuer}}"}""")) + ".c2lnbmF0dXJl";

    [Fact]
    public void ACachedTokenOfAKeyNoLongerPublished_IsValidatedAgain_NotAnsweredFromTheCache()
    {
        var token = Jwt("ES256", "key-2", EmbeddedIssuer);
        _cache.Add(token, new ClaimsPrincipal(), HubAuthentication.EmbeddedScheme, "key-2", TimeProvider.System.GetUtcNow().AddHours(1));
        _published.Add("key-2");
        var whilePublished = _router.Route(Request(token));

        _published.Remove("key-2");
        var afterRevocation = _router.Route(Request(token));

        Assert.Equal(TokenRouteKind.Cached, whilePublished.Kind);
        Assert.Equal((TokenRouteKind.Issuer, HubAuthentication.EmbeddedScheme), (afterRevocation.Kind, afterRevocation.IssuerScheme));
    }

    [Fact]
    public void ACachedTokenOfADisabledClient_IsRefused_AnotherClientsIsStillAnsweredFromTheCache()
    {
        var disabledToken = Jwt("ES256", "key-1", EmbeddedIssuer);
        var otherToken = Jwt("ES256", "key-1", EmbeddedIssuer + "?other");
        _cache.Add(disabledToken, Principal("client-a"), HubAuthentication.EmbeddedScheme, "key-1", TimeProvider.System.GetUtcNow().AddHours(1));
        _cache.Add(otherToken, Principal("client-b"), HubAuthentication.EmbeddedScheme, "key-1", TimeProvider.System.GetUtcNow().AddHours(1));
        var beforeDisabling = _router.Route(Request(disabledToken));

        _revoked.Disable("client-a");
        var afterDisabling = _router.Route(Request(disabledToken));
        var other = _router.Route(Request(otherToken));

        Assert.Equal(TokenRouteKind.Cached, beforeDisabling.Kind);
        Assert.Equal((TokenRouteKind.Refused, RevokedClientTokens.ClientDisabled), (afterDisabling.Kind, afterDisabling.Refusal));
        Assert.Equal(TokenRouteKind.Cached, other.Kind);
    }

    [Fact]
    public void ACachedTokenGotWithASecretRotatedSince_IsRefused_OneGotUnderTheNewRotationIsStillAnswered()
    {
        var firstRotation = new DateTimeOffset(2026, 12, 2, 10, 0, 5, 400, TimeSpan.Zero);
        var secondRotation = firstRotation.AddMilliseconds(1);
        var beforeAnyRotation = Jwt("ES256", "key-1", EmbeddedIssuer);
        var underFirst = Jwt("ES256", "key-1", EmbeddedIssuer + "?first");
        var underSecond = Jwt("ES256", "key-1", EmbeddedIssuer + "?second");
        _cache.Add(beforeAnyRotation, Principal("client-a"), HubAuthentication.EmbeddedScheme, "key-1", TimeProvider.System.GetUtcNow().AddHours(1));
        _cache.Add(underFirst, Principal("client-a", firstRotation), HubAuthentication.EmbeddedScheme, "key-1", TimeProvider.System.GetUtcNow().AddHours(1));
        _cache.Add(underSecond, Principal("client-a", secondRotation), HubAuthentication.EmbeddedScheme, "key-1", TimeProvider.System.GetUtcNow().AddHours(1));
        var beforeRotating = _router.Route(Request(beforeAnyRotation));

        _revoked.SecretRotatedAt("client-a", firstRotation);
        var afterFirst = (_router.Route(Request(beforeAnyRotation)), _router.Route(Request(underFirst)));
        _revoked.SecretRotatedAt("client-a", secondRotation);
        var afterSecond = (_router.Route(Request(underFirst)), _router.Route(Request(underSecond)));
        // A late re-read of the first rotation (another instance's) does not let the first secret's tokens back in.
        _revoked.Merge([new("client-a", firstRotation)]);
        var afterLateRead = _router.Route(Request(underFirst));

        Assert.Equal(TokenRouteKind.Cached, beforeRotating.Kind);
        Assert.Equal((TokenRouteKind.Refused, RevokedClientTokens.SecretRotated), (afterFirst.Item1.Kind, afterFirst.Item1.Refusal));
        Assert.Equal(TokenRouteKind.Cached, afterFirst.Item2.Kind);
        Assert.Equal((TokenRouteKind.Refused, RevokedClientTokens.SecretRotated), (afterSecond.Item1.Kind, afterSecond.Item1.Refusal));
        Assert.Equal(TokenRouteKind.Cached, afterSecond.Item2.Kind);
        Assert.Equal(TokenRouteKind.Refused, afterLateRead.Kind);
    }

    private static ClaimsPrincipal Principal(string clientId, DateTimeOffset? secretRotatedAt = null) => new(new CallerClaimsIdentity([], HubAuthentication.EmbeddedScheme, new CallerIdentity(
        EmbeddedIssuer, clientId, CallerKind.Partner, "maaf", null, null, new HashSet<string>(), TimeProvider.System.GetUtcNow().AddHours(1),
        secretRotatedAt ?? DateTimeOffset.MinValue)));

    /// <summary>The embedded issuer's published keys, as this test sets them (the real set is the database's: KeyRotationTests).</summary>
    private sealed class PublishedKeys : HashSet<string>, IPublishedSigningKeys
    {
        public PublishedKeys()
            : base(StringComparer.Ordinal)
        {
        }

        public bool StillPublishes(string keyId) => Contains(keyId);
    }
}

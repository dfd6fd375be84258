namespace HlmHub.Identity.ResourceServer;

/// <summary>Who reads a request's bearer token, as <see cref="TokenRouter"/> decided.</summary>
internal enum TokenRouteKind
{
    /// <summary>No bearer token: the request is anonymous, and the rpc's policy decides.</summary>
    NoToken,

    /// <summary>A token validated before: <see cref="TokenRoute.Cached"/> answers it.</summary>
    Cached,

    /// <summary>A token that can never pass: <see cref="TokenRoute.Refusal"/> says why.</summary>
    Refused,

    /// <summary>A new token: the JwtBearer scheme <see cref="TokenRoute.IssuerScheme"/> validates it.</summary>
    Issuer,
}

/// <summary>
/// <see cref="TokenRouter"/>'s answer. A value, not an object: the cached path is what every call pays
/// (docs/benchmarks.md), and it must not allocate. Made only through its factories, so each kind carries its one
/// value; the default is <see cref="TokenRouteKind.NoToken"/>.
/// </summary>
internal readonly record struct TokenRoute
{
    private TokenRoute(TokenRouteKind kind, ValidatedTokenCache.Entry? cached, string? issuerScheme, string? refusal)
    {
        Kind = kind;
        Cached = cached;
        IssuerScheme = issuerScheme;
        Refusal = refusal;
    }

    public TokenRouteKind Kind { get; }

    /// <summary>The cache entry of a token validated before (<see cref="TokenRouteKind.Cached"/>), else null.</summary>
    public ValidatedTokenCache.Entry? Cached { get; }

    /// <summary>The JwtBearer scheme of the token's issuer (<see cref="TokenRouteKind.Issuer"/>), else null.</summary>
    public string? IssuerScheme { get; }

    /// <summary>Why the token was refused, never the token itself (<see cref="TokenRouteKind.Refused"/>), else null.</summary>
    public string? Refusal { get; }

    public static TokenRoute NoToken => default;

    public static TokenRoute FromCache(ValidatedTokenCache.Entry entry) => new(TokenRouteKind.Cached, entry, issuerScheme: null, refusal: null);

    public static TokenRoute ToIssuer(string scheme) => new(TokenRouteKind.Issuer, cached: null, scheme, refusal: null);

    public static TokenRoute Refused(string reason) => new(TokenRouteKind.Refused, cached: null, issuerScheme: null, reason);
}

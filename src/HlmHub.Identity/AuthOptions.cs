namespace HlmHub.Identity;

/// <summary>
/// Authentication and authorization settings, bound from the <c>Auth</c> configuration section. Every limit
/// has a named default; docs/identity.md lists the keys.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Auth";

    /// <summary>The audience expected in access tokens when none is configured.</summary>
    public const string DefaultAudience = "hlmhub";

    /// <summary>The default access-token lifetime of the embedded issuer.</summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The default clock skew tolerated on <c>exp</c> and <c>nbf</c>: small, because every party here keeps
    /// its clock with NTP, but not zero, because a token used right after issuance may reach another
    /// instance whose clock is a little behind.
    /// </summary>
    public static readonly TimeSpan DefaultClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The default JWS algorithms accepted on access tokens: asymmetric only. <c>none</c> and the HMAC
    /// algorithms are never accepted, whatever the configuration says, because an HMAC "key" taken from a
    /// public JWKS is known to everybody.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultAllowedAlgorithms =
        ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

    /// <summary>The default accepted JWT <c>typ</c> headers: RFC 9068 access tokens only.</summary>
    public static readonly IReadOnlyList<string> DefaultAcceptedTokenTypes = ["at+jwt"];

    /// <summary>
    /// <c>Auth:Authority</c>: the base URL of an external authorization server whose discovery document
    /// (<c>{Authority}/.well-known/openid-configuration</c>) names its issuer and JWKS. Empty (the default):
    /// the embedded issuer is the authority.
    /// </summary>
    public string Authority { get; set; } = "";

    /// <summary><c>Auth:Audience</c>: the <c>aud</c> required in access tokens (default <c>hlmhub</c>).</summary>
    public string Audience { get; set; } = DefaultAudience;

    /// <summary>
    /// <c>Auth:Issuer</c>: the embedded issuer's identifier (its base URL, e.g. <c>https://hub.example.org</c>).
    /// Empty (the default): the first address the server listens on.
    /// </summary>
    public string Issuer { get; set; } = "";

    /// <summary><c>Auth:TokenLifetime</c>: lifetime of access tokens issued by the embedded issuer (default 15 minutes).</summary>
    public TimeSpan TokenLifetime { get; set; } = DefaultTokenLifetime;

    /// <summary><c>Auth:ClockSkew</c>: tolerance on <c>exp</c>/<c>nbf</c> (default 30 seconds).</summary>
    public TimeSpan ClockSkew { get; set; } = DefaultClockSkew;

    /// <summary>
    /// <c>Auth:AllowedAlgorithms</c>: accepted JWS algorithms (default <see cref="DefaultAllowedAlgorithms"/>).
    /// <c>none</c> and <c>HS*</c> are removed even when listed.
    /// </summary>
    public string[]? AllowedAlgorithms { get; set; }

    /// <summary>
    /// <c>Auth:AcceptedTokenTypes</c>: accepted JWT <c>typ</c> headers (default <c>at+jwt</c>; add <c>JWT</c> for
    /// issuers that do not implement RFC 9068).
    /// </summary>
    public string[]? AcceptedTokenTypes { get; set; }

    /// <summary>
    /// <c>Auth:TrustedIssuers</c>: further authorities whose tokens are accepted, each with its own audience
    /// (e.g. <c>Auth:TrustedIssuers:0:Authority</c>, <c>Auth:TrustedIssuers:0:Audience</c>).
    /// </summary>
    public TrustedIssuerOptions[]? TrustedIssuers { get; set; }

    /// <summary>
    /// <c>Auth:RequireHttpsMetadata</c>: refuse discovery documents and JWKS over plain http (default true).
    /// Loopback authorities (127.0.0.1, ::1, localhost) are always allowed over http so tests and a
    /// side-car issuer work.
    /// </summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// <c>Auth:ValidatedTokenCacheDuration</c>: how long a token whose signature was verified is remembered,
    /// so that the next calls with the same token skip the signature check (default 5 minutes; never past
    /// the token's own expiry). Zero disables the cache.
    /// </summary>
    public TimeSpan ValidatedTokenCacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary><c>Auth:ValidatedTokenCacheMaxEntries</c>: bound on that cache (default 10,000 tokens).</summary>
    public int ValidatedTokenCacheMaxEntries { get; set; } = 10_000;

    /// <summary><c>Auth:EmbeddedIssuer</c>: the token endpoint built into the hub.</summary>
    public EmbeddedIssuerOptions EmbeddedIssuer { get; set; } = new();

    internal IReadOnlyList<string> EffectiveAcceptedTokenTypes =>
        AcceptedTokenTypes is { Length: > 0 } ? AcceptedTokenTypes : DefaultAcceptedTokenTypes;

    internal IReadOnlyList<string> EffectiveAllowedAlgorithms =>
        (AllowedAlgorithms is { Length: > 0 } ? AllowedAlgorithms : DefaultAllowedAlgorithms)
            .Where(a => !a.Equals("none", StringComparison.OrdinalIgnoreCase)
                && !a.StartsWith("HS", StringComparison.OrdinalIgnoreCase))
            .ToArray();

    internal bool UsesEmbeddedAuthority => string.IsNullOrWhiteSpace(Authority);
}

/// <summary>An additional authorization server whose tokens are accepted.</summary>
public sealed class TrustedIssuerOptions
{
    /// <summary>The issuer's base URL; its discovery document is read from <c>/.well-known/openid-configuration</c>.</summary>
    public string Authority { get; set; } = "";

    /// <summary>The audience its tokens must carry (default: <see cref="AuthOptions.Audience"/>).</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// The <c>iss</c> its tokens carry, when it differs from <see cref="Authority"/> (default: the authority without
    /// a trailing slash). Tokens are routed to an issuer by this value before anything else is checked.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>
    /// <c>Auth:TrustedIssuers:n:AllowedCallerKinds</c>: the caller kinds this issuer may assert (default
    /// <see cref="DefaultAllowedCallerKinds"/>: partners and landlords). A token asserting another kind (a hub or
    /// club administrator, unless listed) is refused: an external identity provider cannot mint administrators
    /// unless the hub's operator says so.
    /// </summary>
    public CallerKind[]? AllowedCallerKinds { get; set; }

    /// <summary>The caller kinds an external issuer may assert when none are configured.</summary>
    public static readonly IReadOnlyList<CallerKind> DefaultAllowedCallerKinds = [CallerKind.Partner, CallerKind.Landlord];
}

/// <summary>Settings of the embedded authorization server (<c>Auth:EmbeddedIssuer</c>).</summary>
public sealed class EmbeddedIssuerOptions
{
    /// <summary>
    /// <c>Auth:EmbeddedIssuer:Enabled</c>: serve <c>/connect/token</c>, discovery and JWKS (default true).
    /// With it enabled and <c>Auth:Authority</c> empty, the hub trusts its own tokens.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>Auth:EmbeddedIssuer:SigningAlgorithm</c>: ES256 (default), ES384 or ES512.</summary>
    public string SigningAlgorithm { get; set; } = "ES256";

    /// <summary><c>Auth:EmbeddedIssuer:KeyRotationInterval</c>: how long a key signs before the next one takes over (default 30 days).</summary>
    public TimeSpan KeyRotationInterval { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:KeyAnnouncementLead</c>: how long the next key is published in the JWKS before it
    /// signs (default 2 days), longer than any validator's JWKS cache (Microsoft's default refresh is 12 hours).
    /// </summary>
    public TimeSpan KeyAnnouncementLead { get; set; } = TimeSpan.FromDays(2);

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:KeyCacheRefreshInterval</c>: how often an instance re-reads the signing keys from
    /// the database, so keys created by another instance are seen (default 1 minute).
    /// </summary>
    public TimeSpan KeyCacheRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:DisabledClientsRefreshInterval</c>: how often an instance re-reads which clients are
    /// disabled or had their secret rotated (default 30 s). A disabled client's tokens, and those got before a secret
    /// rotation, are refused, and their open streams end, at once on the instance that disabled the client or rotated
    /// the secret and within this interval on the others.
    /// </summary>
    public TimeSpan DisabledClientsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>Auth:EmbeddedIssuer:ClientAssertionMaxLifetime</c>: longest accepted private_key_jwt assertion, exp - iat (default 5 minutes).</summary>
    public TimeSpan ClientAssertionMaxLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary><c>Auth:EmbeddedIssuer:FailedAuthenticationWindow</c>: the window failed client authentications are counted in (default 5 minutes).</summary>
    public TimeSpan FailedAuthenticationWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerClient</c>: failures allowed per (client id, remote
    /// address) in the window before that pair gets 429 (default 10). The same client from another address is
    /// not affected, so a stranger who knows a client id cannot lock the client out.
    /// </summary>
    public int MaxFailedAuthenticationsPerClient { get; set; } = 10;

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:MaxFailedAuthenticationsPerAddress</c>: failures allowed per remote address (IPv6:
    /// per /64) in the window, whatever the client ids, before that address gets 429 (default 30).
    /// </summary>
    public int MaxFailedAuthenticationsPerAddress { get; set; } = 30;

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:MaxTrackedFailureKeys</c>: most (client, address) and address counters kept in
    /// memory (default 100,000, a few MiB); past it, ended windows and then the oldest ones are forgotten.
    /// </summary>
    public int MaxTrackedFailureKeys { get; set; } = 100_000;

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:MaxTokenRequestsPerClientPerMinute</c>: token requests one (client id, remote address)
    /// pair may make in a minute, successful or not (default 300): a burst of that many, then that many a minute,
    /// evenly spread; past it, 429 with <c>Retry-After</c>. A token lasts <see cref="AuthOptions.TokenLifetime"/> and
    /// checking a secret costs a PBKDF2 hash: a client asking for a new token per call as fast as it can would otherwise
    /// take the hub's CPU from every other client. CLI commands run one after another stay well under it.
    /// </summary>
    public int MaxTokenRequestsPerClientPerMinute { get; set; } = 300;

    /// <summary><c>Auth:EmbeddedIssuer:MaxTokenRequestBytes</c>: largest accepted token request body (default 16 KiB).</summary>
    public int MaxTokenRequestBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// <c>Auth:EmbeddedIssuer:KeyRingCertificatePath</c>: a PKCS#12 (.pfx) file whose certificate encrypts the Data
    /// Protection key ring in the database, so that the signing keys stay unreadable to whoever reads the database
    /// alone (default empty: the key ring is stored as Data Protection writes it, readable with the database).
    /// </summary>
    public string KeyRingCertificatePath { get; set; } = "";

    /// <summary><c>Auth:EmbeddedIssuer:KeyRingCertificatePassword</c>: the password of that file (default empty).</summary>
    public string KeyRingCertificatePassword { get; set; } = "";

    /// <summary><c>Auth:EmbeddedIssuer:BootstrapAdmin</c>: create the first hub administrator at start-up when none exists (default true).</summary>
    public bool BootstrapAdmin { get; set; } = true;
}

namespace HlmHub.Identity.ResourceServer;

/// <summary>One external issuer the hub trusts, with the JwtBearer scheme that validates its tokens.</summary>
/// <param name="Scheme">The authentication scheme's name.</param>
/// <param name="Issuer">The exact <c>iss</c> its tokens carry: tokens are routed to <paramref name="Scheme"/> by it.</param>
/// <param name="Authority">Where its discovery document is (<c>{Authority}/.well-known/openid-configuration</c>).</param>
/// <param name="Audience">The <c>aud</c> its tokens must carry.</param>
/// <param name="AllowedKinds">The caller kinds it may assert.</param>
internal sealed record ExternalIssuer(string Scheme, string Issuer, string Authority, string Audience, CallerKind AllowedKinds);

/// <summary>The issuers the hub trusts, fixed from configuration at start-up.</summary>
internal sealed class IssuerSchemes
{
    public IssuerSchemes(AuthOptions options)
    {
        EmbeddedEnabled = options.EmbeddedIssuer.Enabled;
        var external = new List<ExternalIssuer>();
        if (!options.UsesEmbeddedAuthority)
        {
            // The configured authority may assert every kind, administrators included, as the embedded issuer does (which
            // stays trusted beside it unless Auth:EmbeddedIssuer:Enabled is false).
            // The issuer is expected exactly as configured, trailing slash included (OpenIddict's issuers, a second
            // hub's among them, end with one); only the discovery URL is built without it.
            var authority = options.Authority.TrimEnd('/');
            external.Add(new ExternalIssuer(HubAuthentication.AuthorityScheme, IssuerOf(options), authority, options.Audience, CallerKind.Any));
        }

        var index = 0;
        foreach (var trusted in options.TrustedIssuers ?? [])
        {
            if (string.IsNullOrWhiteSpace(trusted.Authority))
            {
                continue;
            }

            var authority = trusted.Authority.TrimEnd('/');
            var kinds = (trusted.AllowedCallerKinds is { Length: > 0 } configured ? configured : TrustedIssuerOptions.DefaultAllowedCallerKinds)
                .Aggregate(CallerKind.None, (all, kind) => all | kind);
            external.Add(new ExternalIssuer(
                HubAuthentication.TrustedIssuerScheme(index++),
                IssuerOf(trusted),
                authority,
                trusted.Audience ?? options.Audience,
                kinds));
        }

        External = external;
    }

    public bool EmbeddedEnabled { get; }

    /// <summary>The <c>iss</c> that routes a token to <c>Auth:Authority</c> (<see cref="ExternalIssuer.Issuer"/>).</summary>
    internal static string IssuerOf(AuthOptions options) => options.Authority.Trim();

    /// <summary>The <c>iss</c> that routes a token to a trusted issuer (<see cref="ExternalIssuer.Issuer"/>).</summary>
    internal static string IssuerOf(TrustedIssuerOptions trusted) =>
        string.IsNullOrWhiteSpace(trusted.Issuer) ? trusted.Authority.Trim() : trusted.Issuer;

    public IReadOnlyList<ExternalIssuer> External { get; }

    /// <summary>The caller kinds the issuer behind <paramref name="scheme"/> may assert: every kind for the embedded issuer.</summary>
    public CallerKind AllowedKinds(string scheme) =>
        External.FirstOrDefault(issuer => issuer.Scheme == scheme)?.AllowedKinds ?? CallerKind.Any;
}

using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>
/// The embedded issuer's identifier: <c>Auth:Issuer</c>, else the host's HTTP/1.1 endpoint (<see cref="IHttpEndpointAddress"/>),
/// else the first address the server listens on
/// (known only once it has started, hence resolved on first use). It is never taken from a request's Host
/// header, which the caller controls. The identifier is written the way OpenIddict writes <c>iss</c> and the
/// discovery document's <c>issuer</c>: an absolute URI, so a bare host ends with a slash
/// (<c>http://127.0.0.1:5081/</c>). Validators compare it exactly, slash included.
/// </summary>
internal sealed class EmbeddedIssuerUrl(IOptions<AuthOptions> options, IServiceProvider services) : IEmbeddedIssuerAddress
{
    private Uri? _issuer;

    /// <summary>The issuer identifier as it appears in tokens and discovery.</summary>
    public string Issuer => IssuerUri.AbsoluteUri;

    /// <summary>The issuer as a URI: OpenIddict's base URI for every URL it publishes.</summary>
    public Uri IssuerUri => _issuer ??= Resolve();

    /// <summary>The issuer, or false while it cannot be known yet (no <c>Auth:Issuer</c>, server not listening).</summary>
    public bool TryGetIssuer(out string issuer)
    {
        try
        {
            issuer = Issuer;
            return true;
        }
        catch (InvalidOperationException)
        {
            issuer = "";
            return false;
        }
    }

    public string TokenEndpoint => Combine(IdentityEndpointPaths.Token);

    public bool TryGetTokenEndpoint(out string tokenEndpoint)
    {
        var known = TryGetIssuer(out _);
        tokenEndpoint = known ? TokenEndpoint : "";
        return known;
    }

    public string JwksUri => Combine(IdentityEndpointPaths.Jwks);

    // Relative to the issuer, as OpenIddict resolves its endpoint paths: an issuer with a path keeps it.
    private string Combine(string path) => new Uri(IssuerUri, path.TrimStart('/')).AbsoluteUri;

    private Uri Resolve()
    {
        var configured = options.Value.Issuer;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return WithTrailingSlash(configured);
        }
        // The host's HTTP/1.1 endpoint, where the token endpoint and discovery are served, when it says which it is.
        var address = services.GetService<IHttpEndpointAddress>()?.Address
            ?? services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The embedded issuer's URL is unknown: set Auth:Issuer or start the server first.");
        // A wildcard binding is not a URL a client can call back; loopback is the best guess, and Auth:Issuer
        // is the way to say better.
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal)
            .Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://[::]", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal));
        return WithTrailingSlash(uri.Uri.GetLeftPart(UriPartial.Authority));
    }

    // A base URI must end with '/' for relative paths to resolve under it rather than beside it.
    private static Uri WithTrailingSlash(string uri) => new(uri.EndsWith('/') ? uri : uri + "/", UriKind.Absolute);
}

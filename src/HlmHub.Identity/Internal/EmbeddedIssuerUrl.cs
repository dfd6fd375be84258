using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HlmHub.Identity.Internal;

/// <summary>
/// The embedded issuer's identifier: <c>Auth:Issuer</c>, else the host's HTTP/1.1 endpoint (<see cref="IHttpEndpointAddress"/>),
/// else the first address the server listens on
/// (known only once it has started, hence resolved on first use). It is never taken from a request's Host
/// header, which the caller controls.
/// </summary>
internal sealed class EmbeddedIssuerUrl(IOptions<AuthOptions> options, IServiceProvider services) : IEmbeddedIssuerAddress
{
    private string? _issuer;

    public string Issuer => _issuer ??= Resolve();

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

    public string TokenEndpoint => Issuer + IdentityEndpointPaths.Token;

    public bool TryGetTokenEndpoint(out string tokenEndpoint)
    {
        var known = TryGetIssuer(out var issuer);
        tokenEndpoint = known ? issuer + IdentityEndpointPaths.Token : "";
        return known;
    }

    public string JwksUri => Issuer + IdentityEndpointPaths.Jwks;

    private string Resolve()
    {
        var configured = options.Value.Issuer;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.TrimEnd('/');
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
        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }
}

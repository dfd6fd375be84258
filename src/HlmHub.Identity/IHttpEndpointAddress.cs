namespace HlmHub.Identity;

/// <summary>
/// The host's HTTP/1.1 endpoint (token endpoint, discovery, JWKS): its base URL is the embedded issuer's default
/// identifier when <c>Auth:Issuer</c> is not set, and the embedded issuer answers on it alone (a request for the
/// issuer on another port gets 404). Registered by the host.
/// </summary>
public interface IHttpEndpointAddress
{
    /// <summary>
    /// The endpoint's base URL (e.g. <c>http://127.0.0.1:5081</c>), or null while it is not known: the server is not
    /// listening yet, or the host does not say (the issuer is then the server's first address).
    /// </summary>
    string? Address { get; }
}

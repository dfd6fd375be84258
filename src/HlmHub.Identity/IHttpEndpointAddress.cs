namespace HlmHub.Identity;

/// <summary>
/// The base URL of the host's HTTP/1.1 endpoint (token endpoint, discovery, JWKS), which is the embedded
/// issuer's default identifier when <c>Auth:Issuer</c> is not set. Registered by the host.
/// </summary>
public interface IHttpEndpointAddress
{
    /// <summary>The endpoint's base URL (e.g. <c>http://127.0.0.1:5081</c>), or null while the server is not listening.</summary>
    string? Address { get; }
}

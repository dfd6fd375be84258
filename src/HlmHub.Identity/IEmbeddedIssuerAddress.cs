namespace HlmHub.Identity;

/// <summary>Where the embedded issuer can be reached: <c>Auth:Issuer</c>, else the server's first address.</summary>
public interface IEmbeddedIssuerAddress
{
    /// <summary>The token endpoint URL, or false while it cannot be known (no <c>Auth:Issuer</c>, server not listening yet).</summary>
    bool TryGetTokenEndpoint(out string tokenEndpoint);
}

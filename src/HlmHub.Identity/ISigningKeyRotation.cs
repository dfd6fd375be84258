namespace HlmHub.Identity;

/// <summary>Rotates or revokes the embedded issuer's signing keys on demand (tests, and an operator who suspects a leak).</summary>
public interface ISigningKeyRotation
{
    /// <summary>
    /// Retires the current signing key now and signs with a new one from now on. Tokens signed with the
    /// retired key stay valid until they expire: the key stays in the JWKS until then.
    /// </summary>
    /// <returns>The new key's id.</returns>
    Task<string> RotateNowAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a key at once, for a key that leaked: it leaves the JWKS and every token it signed stops
    /// validating (at once on this instance, within <c>Auth:EmbeddedIssuer:KeyCacheRefreshInterval</c> on the
    /// others). When it was signing, a new key signs from now on.
    /// </summary>
    /// <returns>False when no key has that id.</returns>
    Task<bool> RevokeAsync(string keyId, CancellationToken cancellationToken);
}

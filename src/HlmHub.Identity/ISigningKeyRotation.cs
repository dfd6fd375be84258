namespace HlmHub.Identity;

/// <summary>Rotates the embedded issuer's signing key on demand (tests, and an operator who suspects a leak).</summary>
public interface ISigningKeyRotation
{
    /// <summary>
    /// Retires the current signing key now and signs with a new one from now on. Tokens signed with the
    /// retired key stay valid until they expire: the key stays in the JWKS until then.
    /// </summary>
    /// <returns>The new key's id.</returns>
    Task<string> RotateNowAsync(CancellationToken cancellationToken);
}

namespace HlmHub.Storage.Identity;

/// <summary>
/// A key the embedded authorization server signs access tokens with. Its life: announced in the JWKS from
/// <see cref="CreatedAt"/>, used to sign from <see cref="ActivatesAt"/> until <see cref="RetiresAt"/>, and
/// removed from the JWKS after <see cref="ExpiresAt"/> (once every token it signed has expired). The private
/// key is stored only encrypted with ASP.NET Core Data Protection, whose key ring is in the same database
/// (<see cref="HlmHubDbContext.DataProtectionKeys"/>).
/// </summary>
public sealed class SigningKey
{
    /// <summary>Maximum length of <see cref="KeyId"/>.</summary>
    public const int KeyIdMaxLength = 100;

    /// <summary>The key id (<c>kid</c>), primary key.</summary>
    public required string KeyId { get; set; }

    /// <summary>The JWS algorithm, e.g. <c>ES256</c>.</summary>
    public required string Algorithm { get; set; }

    /// <summary>The private key, PKCS#8 encoded then protected with Data Protection (never in clear).</summary>
    public required byte[] ProtectedPrivateKey { get; set; }

    /// <summary>The public key as a JSON Web Key.</summary>
    public required string PublicJwk { get; set; }

    /// <summary>When the key was created (and first announced in the JWKS).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the key starts being used to sign.</summary>
    public DateTimeOffset ActivatesAt { get; set; }

    /// <summary>When the key stops being used to sign; null while it is current.</summary>
    public DateTimeOffset? RetiresAt { get; set; }

    /// <summary>When the key leaves the JWKS; null while it may still verify tokens.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}

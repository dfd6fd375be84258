namespace HlmHub.Storage.Identity;

/// <summary>
/// A short lease that one hub instance holds while it changes shared identity state (creating or purging
/// signing keys, creating the bootstrap administrator), so that two instances on one database never do the
/// same change twice. The primary key (<see cref="Name"/>) makes a second holder a unique-key violation; an
/// instance that died holding a lease loses it at <see cref="ExpiresAt"/>.
/// </summary>
public sealed class IdentityLease
{
    /// <summary>Maximum length of <see cref="Name"/> and <see cref="Holder"/>.</summary>
    public const int NameMaxLength = 100;

    /// <summary>What the lease guards, e.g. <c>signing-keys</c> (primary key).</summary>
    public required string Name { get; set; }

    /// <summary>A random id of the holder, so only the holder releases it.</summary>
    public required string Holder { get; set; }

    /// <summary>When the lease lapses even if its holder never released it.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}

namespace HlmHub.Storage.Identity;

/// <summary>
/// A client assertion (RFC 7523) already accepted, kept until it expires so the same <c>jti</c> cannot be
/// replayed. The primary key (<see cref="ClientId"/>, <see cref="Jti"/>) makes a replay a unique-key violation.
/// </summary>
public sealed class ClientAssertionUse
{
    /// <summary>Maximum length of <see cref="Jti"/>.</summary>
    public const int JtiMaxLength = 200;

    /// <summary>Maximum length of <see cref="ClientId"/> (the client registry accepts no longer id).</summary>
    public const int ClientIdMaxLength = 100;

    /// <summary>The client that presented the assertion.</summary>
    public required string ClientId { get; set; }

    /// <summary>The assertion's <c>jti</c> claim.</summary>
    public required string Jti { get; set; }

    /// <summary>When the assertion expires; the row can be purged after.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}

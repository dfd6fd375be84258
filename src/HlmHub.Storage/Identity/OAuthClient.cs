namespace HlmHub.Storage.Identity;

/// <summary>What kind of caller an OAuth client is, and so which entity it is bound to.</summary>
public enum ClientKind
{
    /// <summary>A partner system (insurer, merchant...), bound to <see cref="OAuthClient.PartnerId"/>.</summary>
    Partner,

    /// <summary>A landlord system, bound to <see cref="OAuthClient.LandlordId"/>.</summary>
    Landlord,

    /// <summary>A club administrator (bound to <see cref="OAuthClient.ClubId"/>), or a hub administrator when that is null.</summary>
    Admin,
}

/// <summary>A client of the embedded token endpoint (OAuth 2.0 client credentials).</summary>
public sealed class OAuthClient
{
    /// <summary>Maximum length of <see cref="ClientId"/>.</summary>
    public const int ClientIdMaxLength = 100;

    /// <summary>Maximum length of <see cref="DisplayName"/>.</summary>
    public const int DisplayNameMaxLength = 200;

    /// <summary>The client id (primary key).</summary>
    public required string ClientId { get; set; }

    /// <summary>A human-readable name.</summary>
    public required string DisplayName { get; set; }

    /// <summary>The kind of caller (stored as its name).</summary>
    public ClientKind Kind { get; set; }

    /// <summary>The partner this client acts for (partner clients).</summary>
    public string? PartnerId { get; set; }

    /// <summary>The landlord this client acts for (landlord clients).</summary>
    public string? LandlordId { get; set; }

    /// <summary>The club an admin client administers; null for a hub administrator.</summary>
    public string? ClubId { get; set; }

    /// <summary>The scopes the client may request, space-separated.</summary>
    public string AllowedScopes { get; set; } = "";

    /// <summary>A salted hash of the client secret (never the secret itself); null when the client uses private_key_jwt only.</summary>
    public string? SecretHash { get; set; }

    /// <summary>The client's public key as a JSON Web Key, for private_key_jwt (RFC 7523).</summary>
    public string? PublicJwk { get; set; }

    /// <summary>When the client was registered.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the client was disabled; a disabled client gets no token.</summary>
    public DateTimeOffset? DisabledAt { get; set; }
}

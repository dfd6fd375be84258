namespace HlmHub.Identity;

/// <summary>The fixed event ids Identity logs with, so operators can alert on them.</summary>
public static class IdentityEventIds
{
    /// <summary>An rpc was refused (UNAUTHENTICATED or PERMISSION_DENIED): client, rpc, reason, time.</summary>
    public const int RpcDenied = 3001;

    /// <summary>A handler declared an ownership rule and returned without checking it (a bug).</summary>
    public const int OwnershipNotChecked = 3002;

    /// <summary>A token request failed client authentication.</summary>
    public const int ClientAuthenticationFailed = 3003;

    /// <summary>Token requests from a client or address were rate limited.</summary>
    public const int TokenRequestsRateLimited = 3004;

    /// <summary>An access token was issued.</summary>
    public const int TokenIssued = 3005;

    /// <summary>A signing key was created.</summary>
    public const int SigningKeyCreated = 3006;

    /// <summary>The bootstrap administrator was created.</summary>
    public const int BootstrapAdminCreated = 3007;

    /// <summary>A client was registered or disabled.</summary>
    public const int ClientRegistryChanged = 3008;

    /// <summary>A client was disabled.</summary>
    public const int ClientDisabled = 3010;

    /// <summary>Discovery or JWKS of a trusted issuer could not be read.</summary>
    public const int IssuerMetadataUnavailable = 3009;

    /// <summary>A signing key was revoked (deleted before its time, e.g. after a leak).</summary>
    public const int SigningKeyRevoked = 3011;

    /// <summary>A client's secret was replaced by a new one (the old one stopped working).</summary>
    public const int ClientSecretRotated = 3012;

    /// <summary>The disabled clients could not be read from the database; the last set read stays in force.</summary>
    public const int DisabledClientsUnreadable = 3013;
}

using Microsoft.IdentityModel.JsonWebTokens;

namespace HlmHub.Identity.Internal;

/// <summary>What a validated access token says about its bearer.</summary>
internal sealed record CallerIdentity(
    string Issuer,
    string ClientId,
    CallerKind Kind,
    string? PartnerId,
    string? LandlordId,
    string? ClubId,
    IReadOnlySet<string> Scopes,
    DateTimeOffset ExpiresAt,
    DateTimeOffset SecretRotatedAt)
{
    /// <summary>Reads the caller from a token whose signature, issuer, audience and lifetime were validated.</summary>
    public static CallerIdentity FromToken(JsonWebToken token)
    {
        var clientId = ReadString(token, HubClaims.ClientId) ?? token.Subject ?? "";
        var partner = ReadString(token, HubClaims.Partner);
        var landlord = ReadString(token, HubClaims.Landlord);
        var club = ReadString(token, HubClaims.Club);
        var kind = ReadString(token, HubClaims.Kind) switch
        {
            HubClaims.KindPartner when partner is not null => CallerKind.Partner,
            HubClaims.KindLandlord when landlord is not null => CallerKind.Landlord,
            // A hub administrator is an admin token without the claim, not one whose claim is there but not one id (an
            // array from a multivalued mapper, an empty attribute, a number, null): that one is about a club, and unreadable.
            HubClaims.KindAdmin when club is null && token.TryGetClaim(HubClaims.Club, out _) => CallerKind.None,
            HubClaims.KindAdmin => club is null ? CallerKind.HubAdmin : CallerKind.ClubAdmin,
            // A token without a usable binding authenticates the client but lets it call nothing.
            _ => CallerKind.None,
        };
        return new CallerIdentity(
            token.Issuer,
            clientId,
            kind,
            kind == CallerKind.Partner ? partner : null,
            kind == CallerKind.Landlord ? landlord : null,
            kind == CallerKind.ClubAdmin ? club : null,
            ReadScopes(token),
            new DateTimeOffset(token.ValidTo, TimeSpan.Zero),
            ReadRotation(token));
    }

    /// <summary>
    /// The client's last secret rotation the token was issued under (<see cref="HubClaims.SecretRotatedAt"/>), or
    /// <see cref="DateTimeOffset.MinValue"/> for a token without one: issued before any rotation, or by another issuer.
    /// </summary>
    private static DateTimeOffset ReadRotation(JsonWebToken token) =>
        ReadString(token, HubClaims.SecretRotatedAt) is { } text
            && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var milliseconds)
            && milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
            : DateTimeOffset.MinValue;

    private static string? ReadString(JsonWebToken token, string claim) =>
        token.TryGetPayloadValue<string>(claim, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    // RFC 9068 puts scopes in a space-separated "scope" string; some issuers (Entra ID) use "scp", or an array.
    private static HashSet<string> ReadScopes(JsonWebToken token)
    {
        var scopes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in token.Claims)
        {
            if (claim.Type is HubClaims.Scope or "scp")
            {
                foreach (var scope in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    scopes.Add(scope);
                }
            }
        }
        return scopes;
    }
}

/// <summary>The claim names of HlmHub access tokens.</summary>
internal static class HubClaims
{
    public const string ClientId = "client_id";
    public const string Scope = "scope";
    public const string Kind = "hlmhub_kind";
    public const string Partner = "hlmhub_partner";
    public const string Landlord = "hlmhub_landlord";
    public const string Club = "hlmhub_club";

    /// <summary>
    /// In the embedded issuer's tokens: the client's last secret rotation when the token was issued (Unix
    /// milliseconds, as stored), absent before the first. A token issued under an earlier rotation is refused.
    /// </summary>
    public const string SecretRotatedAt = "hlmhub_secret_rotated_at";

    public const string KindPartner = "partner";
    public const string KindLandlord = "landlord";
    public const string KindAdmin = "admin";
}

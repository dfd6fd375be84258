using System.Globalization;
using System.Text.Json;
using HlmHub.Identity.Internal;
using HlmHub.Storage.Identity;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// How a hub client is kept as an OpenIddict application: its binding (kind, partner, landlord, club) and its
/// registration and disabling dates are application properties; its allowed scopes are OpenIddict scope
/// permissions (<c>scp:</c>), so OpenIddict itself refuses a scope the client may not have.
/// </summary>
internal static class ClientApplications
{
    public const string KindProperty = HubClaims.Kind;
    public const string PartnerProperty = HubClaims.Partner;
    public const string LandlordProperty = HubClaims.Landlord;
    public const string ClubProperty = HubClaims.Club;

    /// <summary>Registration instant, Unix milliseconds.</summary>
    public const string CreatedAtProperty = "hlmhub_created_at";

    /// <summary>Disabling instant, Unix milliseconds; absent while the client is enabled.</summary>
    public const string DisabledAtProperty = "hlmhub_disabled_at";

    /// <summary>Instant of the last secret rotation, Unix milliseconds; absent until the secret is first rotated.</summary>
    public const string SecretRotatedAtProperty = "hlmhub_secret_rotated_at";

    public static string KindName(ClientKind kind) => kind switch
    {
        ClientKind.Partner => HubClaims.KindPartner,
        ClientKind.Landlord => HubClaims.KindLandlord,
        _ => HubClaims.KindAdmin,
    };

    public static ClientKind? ParseKind(string? name) => name switch
    {
        HubClaims.KindPartner => ClientKind.Partner,
        HubClaims.KindLandlord => ClientKind.Landlord,
        HubClaims.KindAdmin => ClientKind.Admin,
        _ => null,
    };

    public static JsonElement Text(string value) => JsonSerializer.SerializeToElement(value);

    public static JsonElement Instant(DateTimeOffset value) =>
        JsonSerializer.SerializeToElement(value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));

    /// <summary>The allowed scopes among OpenIddict permissions.</summary>
    public static IReadOnlyList<string> Scopes(IEnumerable<string> permissions) =>
        permissions.Where(p => p.StartsWith(OpenIddictConstants.Permissions.Prefixes.Scope, StringComparison.Ordinal))
            .Select(p => p[OpenIddictConstants.Permissions.Prefixes.Scope.Length..])
            .ToList();

    /// <summary>The kind a stored application was registered with, or null for one registered outside the registry.</summary>
    public static ClientKind? KindOf(OpenIddictEntityFrameworkCoreApplication application) =>
        ParseKind(Read(ParseObject(application.Properties), KindProperty));

    /// <summary>
    /// From an application's stored properties (OpenIddict's JSON column), what <see cref="ResourceServer.RevokedClientTokens"/>
    /// keeps of it: <see cref="DateTimeOffset.MaxValue"/> when it is disabled, else its last secret rotation, or null
    /// when neither happened.
    /// </summary>
    public static DateTimeOffset? LastRotation(string? properties)
    {
        var parsed = ParseObject(properties);
        return ReadInstant(parsed, DisabledAtProperty) is not null ? DateTimeOffset.MaxValue : ReadInstant(parsed, SecretRotatedAtProperty);
    }

    /// <summary>Reads a stored application (EF entity, JSON columns) into the registry's description.</summary>
    public static ClientDescription Describe(OpenIddictEntityFrameworkCoreApplication application)
    {
        var properties = ParseObject(application.Properties);
        var permissions = ParseArray(application.Permissions);
        return new ClientDescription(
            application.ClientId ?? "",
            application.DisplayName ?? "",
            ParseKind(Read(properties, KindProperty)) ?? ClientKind.Admin,
            Scopes(permissions),
            Read(properties, PartnerProperty),
            Read(properties, LandlordProperty),
            Read(properties, ClubProperty),
            !string.IsNullOrEmpty(application.JsonWebKeySet),
            ReadInstant(properties, CreatedAtProperty) ?? DateTimeOffset.UnixEpoch,
            ReadInstant(properties, DisabledAtProperty));
    }

    public static string? Read(IReadOnlyDictionary<string, JsonElement> properties, string name) =>
        properties.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static DateTimeOffset? ReadInstant(IReadOnlyDictionary<string, JsonElement> properties, string name) =>
        Read(properties, name) is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
            : null;

    private static Dictionary<string, JsonElement> ParseObject(string? json) =>
        string.IsNullOrEmpty(json)
            ? []
            : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json) ?? [];

    private static List<string> ParseArray(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<string>>(json) ?? [];
}

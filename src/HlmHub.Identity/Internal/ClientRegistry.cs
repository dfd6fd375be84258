using System.Security.Cryptography;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace HlmHub.Identity.Internal;

/// <summary>Stores clients of the embedded issuer: secrets only as salted hashes, public keys as JWKs.</summary>
internal sealed class ClientRegistry(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    TimeProvider timeProvider,
    ILogger<ClientRegistry> logger) : IClientRegistry
{
    /// <summary>Most scopes one client may be allowed: far above the hub's handful, small enough to bound token size.</summary>
    internal const int MaxAllowedScopes = 32;

    public async Task<RegisteredClient> RegisterAsync(ClientRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        Validate(registration);
        var clientId = registration.ClientId ?? GenerateClientId(registration.Kind);
        var secret = registration.PublicJwk is null ? ClientSecretHasher.GenerateSecret() : null;
        var client = new OAuthClient
        {
            ClientId = clientId,
            DisplayName = registration.DisplayName,
            Kind = registration.Kind,
            PartnerId = registration.PartnerId,
            LandlordId = registration.LandlordId,
            ClubId = registration.ClubId,
            AllowedScopes = string.Join(' ', registration.AllowedScopes.Distinct(StringComparer.Ordinal)),
            SecretHash = secret is null ? null : ClientSecretHasher.Hash(secret),
            PublicJwk = registration.PublicJwk,
            CreatedAt = timeProvider.GetUtcNow(),
        };
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        if (await db.OAuthClients.AnyAsync(c => c.ClientId == clientId, cancellationToken))
        {
            throw new ClientRegistryException(ClientRegistryError.AlreadyExists, $"Client '{clientId}' already exists.");
        }
        db.OAuthClients.Add(client);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Lost a race with a concurrent registration of the same id.
            throw new ClientRegistryException(ClientRegistryError.AlreadyExists, $"Client '{clientId}' already exists.");
        }
        IdentityLog.ClientRegistered(logger, registration.Kind.ToString(), clientId, client.AllowedScopes, secret is null ? "public key" : "secret");
        return new RegisteredClient(clientId, secret);
    }

    public async Task DisableAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var client = await db.OAuthClients.SingleOrDefaultAsync(c => c.ClientId == clientId, cancellationToken)
            ?? throw new ClientRegistryException(ClientRegistryError.NotFound, $"Client '{clientId}' does not exist.");
        client.DisabledAt ??= timeProvider.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        IdentityLog.ClientDisabled(logger, clientId);
    }

    private static void Validate(ClientRegistration registration)
    {
        static void Fail(string message) => throw new ClientRegistryException(ClientRegistryError.Invalid, message);

        if (string.IsNullOrWhiteSpace(registration.DisplayName) || registration.DisplayName.Length > OAuthClient.DisplayNameMaxLength)
        {
            Fail($"A display name of 1 to {OAuthClient.DisplayNameMaxLength} characters is required.");
        }
        if (registration.ClientId is { } id && !IsValidClientId(id))
        {
            Fail($"A client id has 1 to {OAuthClient.ClientIdMaxLength} characters among a-z, A-Z, 0-9, '-', '_' and '.'.");
        }
        var binding = (registration.Kind, registration.PartnerId, registration.LandlordId, registration.ClubId);
        var bindingValid = binding switch
        {
            (ClientKind.Partner, { Length: > 0 }, null, null) => true,
            (ClientKind.Landlord, null, { Length: > 0 }, null) => true,
            (ClientKind.Admin, null, null, null or { Length: > 0 }) => true,
            _ => false,
        };
        if (!bindingValid)
        {
            Fail("A partner client is bound to a partner id, a landlord client to a landlord id, an admin client to a club id or to nothing (hub administrator); nothing else.");
        }
        if (registration.AllowedScopes.Count is 0 or > MaxAllowedScopes || !registration.AllowedScopes.All(IsValidScope))
        {
            Fail($"Between 1 and {MaxAllowedScopes} scopes are required, each made of printable ASCII without spaces, quotes or backslashes.");
        }
        if (registration.PublicJwk is { } jwk && ValidatePublicJwk(jwk) is { } keyProblem)
        {
            Fail(keyProblem);
        }
    }

    internal static string? ValidatePublicJwk(string json)
    {
        JsonWebKey key;
        try
        {
            key = new JsonWebKey(json);
        }
        catch (ArgumentException)
        {
            return "The public key is not a JSON Web Key.";
        }
        if (key.HasPrivateKey)
        {
            return "The JSON Web Key contains a private key: send only the public part.";
        }
        return key.Kty switch
        {
            "EC" when !string.IsNullOrEmpty(key.Crv) && !string.IsNullOrEmpty(key.X) && !string.IsNullOrEmpty(key.Y) => null,
            "RSA" when !string.IsNullOrEmpty(key.N) && !string.IsNullOrEmpty(key.E) => null,
            _ => "The JSON Web Key must be an EC (crv, x, y) or RSA (n, e) public key.",
        };
    }

    private static string GenerateClientId(ClientKind kind) =>
        kind.ToString().ToLowerInvariant() + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static bool IsValidClientId(string id) =>
        id.Length is > 0 and <= OAuthClient.ClientIdMaxLength
        && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    private static bool IsValidScope(string scope) =>
        scope.Length is > 0 and <= 100 && scope.All(c => c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E));
}

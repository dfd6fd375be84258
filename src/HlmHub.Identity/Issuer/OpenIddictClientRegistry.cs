using System.Security.Cryptography;
using System.Text.Json;
using HlmHub.Identity.Internal;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace HlmHub.Identity.Issuer;

/// <summary>
/// <see cref="IClientRegistry"/> on OpenIddict's application manager: OpenIddict validates the application,
/// hashes the secret (PBKDF2) and keeps the client's public key for private_key_jwt. We add what OpenIddict
/// has no notion of: the binding claims, the registration date, disabling, and refusing the tokens of a disabled
/// client or those got before a secret rotation (<see cref="ResourceServer.RevokedClientTokens"/>).
/// </summary>
internal sealed class OpenIddictClientRegistry(
    IServiceScopeFactory scopeFactory,
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    TimeProvider timeProvider,
    ResourceServer.RevokedClientTokens revokedTokens,
    ILogger<OpenIddictClientRegistry> logger) : IClientRegistry
{
    /// <summary>Most scopes one client may be allowed: far above the hub's handful, small enough to bound token size.</summary>
    internal const int MaxAllowedScopes = 32;

    /// <summary>Longest display name.</summary>
    internal const int DisplayNameMaxLength = 200;

    /// <summary>Longest client id (the replay cache's column is this long).</summary>
    internal const int ClientIdMaxLength = ClientAssertionUse.ClientIdMaxLength;

    /// <summary>
    /// How many times a disable or a secret rotation is tried when concurrent changes to the same client keep
    /// committing first: enough for the few administrators who could change one client at once.
    /// </summary>
    internal const int MaxUpdateAttempts = 3;

    /// <summary>Random bytes in a generated secret (base64url: 43 characters).</summary>
    private const int SecretBytes = 32;

    public async Task<RegisteredClient> RegisterAsync(ClientRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        Validate(registration);
        var clientId = registration.ClientId ?? GenerateClientId(registration.Kind);
        var secret = registration.PublicJwk is null ? Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(SecretBytes)) : null;
        var scopes = registration.AllowedScopes.Distinct(StringComparer.Ordinal).ToList();

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            DisplayName = registration.DisplayName,
            ClientType = ClientTypes.Confidential,
            ClientSecret = secret,
        };
        if (registration.PublicJwk is { } publicJwk)
        {
            var key = new JsonWebKey(publicJwk);
            // OpenIddict only takes keys meant for signatures from a client's key set.
            if (string.IsNullOrEmpty(key.Use))
            {
                key.Use = JsonWebKeyUseNames.Sig;
            }
            descriptor.JsonWebKeySet = new JsonWebKeySet();
            descriptor.JsonWebKeySet.Keys.Add(key);
        }
        descriptor.Permissions.Add(Permissions.Endpoints.Token);
        descriptor.Permissions.Add(Permissions.GrantTypes.ClientCredentials);
        foreach (var allowed in scopes)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + allowed);
        }
        descriptor.Properties[ClientApplications.KindProperty] = ClientApplications.Text(ClientApplications.KindName(registration.Kind));
        AddIfPresent(descriptor, ClientApplications.PartnerProperty, registration.PartnerId);
        AddIfPresent(descriptor, ClientApplications.LandlordProperty, registration.LandlordId);
        AddIfPresent(descriptor, ClientApplications.ClubProperty, registration.ClubId);
        descriptor.Properties[ClientApplications.CreatedAtProperty] = ClientApplications.Instant(timeProvider.GetUtcNow());

        await using var scope = scopeFactory.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        if (await manager.FindByClientIdAsync(clientId, cancellationToken) is not null)
        {
            throw new ClientRegistryException(ClientRegistryError.AlreadyExists, $"Client '{clientId}' already exists.");
        }
        try
        {
            await manager.CreateAsync(descriptor, cancellationToken);
        }
        catch (Exception exception) when (exception is DbUpdateException or OpenIddictExceptions.ValidationException)
        {
            // A concurrent registration of the same id won the race (the client id index is unique), or OpenIddict
            // refused the application for a reason Validate does not know about.
            if (await manager.FindByClientIdAsync(clientId, cancellationToken) is not null)
            {
                throw new ClientRegistryException(ClientRegistryError.AlreadyExists, $"Client '{clientId}' already exists.");
            }

            if (exception is DbUpdateException)
            {
                // The database failed the write (busy, unreachable...), not a rule of the registration: left for the
                // caller's error mapping to answer (UNAVAILABLE for a transient failure), not read as a refusal.
                throw;
            }

            throw new ClientRegistryException(ClientRegistryError.Invalid, "The client registration was refused: " + exception.Message);
        }
        IdentityLog.ClientRegistered(logger, registration.Kind.ToString(), clientId, string.Join(' ', scopes), secret is null ? "public key" : "secret");
        return new RegisteredClient(clientId, secret);
    }

    public async Task DisableAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        await UpdateApplicationAsync(clientId, async (manager, application, descriptor) =>
        {
            // Read afresh at each attempt: a concurrent disable that committed first has done the work.
            if (!descriptor.Properties.ContainsKey(ClientApplications.DisabledAtProperty))
            {
                descriptor.Properties[ClientApplications.DisabledAtProperty] = ClientApplications.Instant(timeProvider.GetUtcNow());
                // Without the token endpoint permission OpenIddict itself refuses the client, even if our check that
                // reads the property (DisabledClientHandler) were bypassed.
                descriptor.Permissions.Remove(Permissions.Endpoints.Token);
                await manager.PopulateAsync(application, descriptor, cancellationToken);
                await manager.UpdateAsync(application, cancellationToken);
            }
            return true;
        }, cancellationToken);
        // This instance refuses the client's tokens, and ends its streams, from now on; the others at their next refresh.
        revokedTokens.Disable(clientId);
        IdentityLog.ClientDisabled(logger, clientId);
    }

    public async Task<string> RotateSecretAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        var (secret, rotatedAt) = await UpdateApplicationAsync(clientId, async (manager, application, descriptor) =>
        {
            // Read afresh at each attempt: a concurrent disable that committed first makes this a refusal.
            if (descriptor.Properties.ContainsKey(ClientApplications.DisabledAtProperty))
            {
                // A disabled client stays disabled: a new secret would suggest it works again.
                throw new ClientRegistryException(ClientRegistryError.Invalid, $"Client '{clientId}' is disabled: register a new client instead.");
            }
            if (descriptor.JsonWebKeySet is { Keys.Count: > 0 })
            {
                throw new ClientRegistryException(ClientRegistryError.Invalid, $"Client '{clientId}' authenticates with a public key (private_key_jwt), not a secret: register a new key as a new client.");
            }

            var secret = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(SecretBytes));
            // Never equal to the previous rotation, even with a clock that has not moved: tokens are told apart by it.
            var previous = ClientApplications.ReadInstant(descriptor.Properties, ClientApplications.SecretRotatedAtProperty);
            // To the millisecond, as stored and as the new tokens carry it: this instance compares them with it.
            var now = DateTimeOffset.FromUnixTimeMilliseconds(timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            var rotatedAt = previous is { } last && now <= last ? last.AddMilliseconds(1) : now;
            // One update: OpenIddict hashes the new secret (PBKDF2) exactly as at registration and replaces the old hash,
            // and the rotation instant, which each new token carries and every instance reads to refuse the tokens got
            // under an earlier one, is stored with it.
            descriptor.ClientSecret = secret;
            descriptor.Properties[ClientApplications.SecretRotatedAtProperty] = ClientApplications.Instant(rotatedAt);
            await manager.UpdateAsync(application, descriptor, cancellationToken);
            return (secret, rotatedAt);
        }, cancellationToken);
        // A rotated secret is usually a leaked one: the tokens got with it stop here at once, on the others at their
        // next refresh, and so do the streams they opened.
        revokedTokens.SecretRotatedAt(clientId, rotatedAt);
        IdentityLog.ClientSecretRotated(logger, clientId);
        return secret;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the client's application as just read. OpenIddict's store updates an
    /// application only if nobody changed it since it was read (its concurrency token), and throws otherwise: two
    /// administrators disabling a client and rotating its secret at once. The losing change is then made again on
    /// the application read afresh, in a new scope (the old context still tracks the stale row), so it decides on
    /// what the winner wrote; after <see cref="MaxUpdateAttempts"/> lost races it is refused with
    /// <see cref="ClientRegistryError.Conflict"/>, having changed nothing.
    /// </summary>
    private async Task<T> UpdateApplicationAsync<T>(
        string clientId,
        Func<IOpenIddictApplicationManager, object, OpenIddictApplicationDescriptor, Task<T>> change,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var application = await manager.FindByClientIdAsync(clientId, cancellationToken)
                ?? throw new ClientRegistryException(ClientRegistryError.NotFound, $"Client '{clientId}' does not exist.");
            var descriptor = new OpenIddictApplicationDescriptor();
            await manager.PopulateAsync(descriptor, application, cancellationToken);
            try
            {
                return await change(manager, application, descriptor);
            }
            catch (OpenIddictExceptions.ConcurrencyException) when (attempt < MaxUpdateAttempts)
            {
                // Another change to this client committed first: try again on what it wrote.
            }
            catch (OpenIddictExceptions.ConcurrencyException)
            {
                throw new ClientRegistryException(ClientRegistryError.Conflict,
                    $"Client '{clientId}' was changed meanwhile by another disable or secret rotation; nothing was changed: read it again and retry.");
            }
        }
    }

    public async Task<ClientDescription?> FindAsync(string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var application = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
            .SingleOrDefaultAsync(a => a.ClientId == clientId, cancellationToken);
        return application is null ? null : ClientApplications.Describe(application);
    }

    public async Task<IReadOnlyList<ClientDescription>> ListAsync(int offset, int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var applications = await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking()
            .OrderBy(a => a.ClientId)
            .Skip(offset)
            .Take(count)
            .ToListAsync(cancellationToken);
        return applications.Select(ClientApplications.Describe).ToList();
    }

    private static void AddIfPresent(OpenIddictApplicationDescriptor descriptor, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            descriptor.Properties[name] = ClientApplications.Text(value);
        }
    }

    private static void Validate(ClientRegistration registration)
    {
        static void Fail(string message) => throw new ClientRegistryException(ClientRegistryError.Invalid, message);

        if (string.IsNullOrWhiteSpace(registration.DisplayName) || registration.DisplayName.Length > DisplayNameMaxLength)
        {
            Fail($"A display name of 1 to {DisplayNameMaxLength} characters is required.");
        }

        // PostgreSQL cannot store a NUL, and a line break would split the audit log's lines: refused like the
        // domain's names (PrintableText), not failed INTERNAL by the database.
        if (!HlmHub.Domain.PrintableText.Is(registration.DisplayName))
        {
            Fail("A display name must not contain control characters (line breaks, tabs, NUL).");
        }
        if (registration.ClientId is { } id && !IsValidClientId(id))
        {
            Fail($"A client id has 1 to {ClientIdMaxLength} characters among a-z, A-Z, 0-9, '-', '_' and '.'.");
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
        catch (Exception exception) when (exception is ArgumentException or JsonException)
        {
            return "The public key is not a JSON Web Key.";
        }
        if (key.HasPrivateKey)
        {
            return "The JSON Web Key contains a private key: send only the public part.";
        }
        if (!string.IsNullOrEmpty(key.Use) && key.Use != JsonWebKeyUseNames.Sig)
        {
            return "The JSON Web Key must be meant for signatures (use 'sig').";
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
        id.Length is > 0 and <= ClientIdMaxLength
        && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
    private static bool IsValidScope(string scope) =>
        scope.Length is > 0 and <= 100 && scope.All(c => c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E));
}

using HlmHub.Storage.Identity;

namespace HlmHub.Identity;

/// <summary>A client to register with the embedded issuer.</summary>
/// <param name="Kind">Partner, landlord or admin.</param>
/// <param name="DisplayName">A human-readable name.</param>
/// <param name="AllowedScopes">The scopes the client may request.</param>
/// <param name="PartnerId">The partner a partner client acts for (required for partners, else null).</param>
/// <param name="LandlordId">The landlord a landlord client acts for (required for landlords, else null).</param>
/// <param name="ClubId">The club an admin client administers; null for a hub administrator (admins only).</param>
/// <param name="PublicJwk">The client's public JSON Web Key for private_key_jwt; null to generate a secret instead.</param>
/// <param name="ClientId">The client id to use; null to generate one.</param>
public sealed record ClientRegistration(
    ClientKind Kind,
    string DisplayName,
    IReadOnlyList<string> AllowedScopes,
    string? PartnerId = null,
    string? LandlordId = null,
    string? ClubId = null,
    string? PublicJwk = null,
    string? ClientId = null);

/// <summary>A registered client. <see cref="ClientSecret"/> is shown this once and never stored in clear.</summary>
/// <param name="ClientId">The client id.</param>
/// <param name="ClientSecret">The generated secret, or null for a private_key_jwt client.</param>
public sealed record RegisteredClient(string ClientId, string? ClientSecret);

/// <summary>A registered client as the registry describes it (never its secret).</summary>
/// <param name="ClientId">The client id.</param>
/// <param name="DisplayName">A human-readable name.</param>
/// <param name="Kind">Partner, landlord or admin.</param>
/// <param name="AllowedScopes">The scopes the client may request.</param>
/// <param name="PartnerId">The partner a partner client acts for.</param>
/// <param name="LandlordId">The landlord a landlord client acts for.</param>
/// <param name="ClubId">The club an admin client administers; null for a hub administrator.</param>
/// <param name="UsesPublicKey">Whether the client authenticates with private_key_jwt.</param>
/// <param name="CreatedAt">When the client was registered.</param>
/// <param name="DisabledAt">When the client was disabled, or null.</param>
public sealed record ClientDescription(
    string ClientId,
    string DisplayName,
    ClientKind Kind,
    IReadOnlyList<string> AllowedScopes,
    string? PartnerId,
    string? LandlordId,
    string? ClubId,
    bool UsesPublicKey,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DisabledAt);

/// <summary>Why a registration change was refused.</summary>
public enum ClientRegistryError
{
    /// <summary>The request is invalid (binding, scopes, key, id).</summary>
    Invalid,

    /// <summary>A client with that id exists.</summary>
    AlreadyExists,

    /// <summary>No client has that id.</summary>
    NotFound,

    /// <summary>
    /// Concurrent changes to the same client kept committing first (the registry tries again on fresh data a few
    /// times before giving up); nothing was changed: retry.
    /// </summary>
    Conflict,
}

/// <summary>A registration change the registry refused; <see cref="Exception.Message"/> says why, for the admin.</summary>
public sealed class ClientRegistryException(ClientRegistryError error, string message) : Exception(message)
{
    /// <summary>The kind of refusal.</summary>
    public ClientRegistryError Error { get; } = error;
}

/// <summary>
/// Registers, disables and describes clients of the embedded issuer (used by the admin API and the CLI). The
/// clients are OpenIddict applications; secrets are stored only as OpenIddict's PBKDF2 hashes.
/// </summary>
public interface IClientRegistry
{
    /// <summary>Registers a client; returns its id and, for a secret client, the secret (only this once).</summary>
    /// <exception cref="ClientRegistryException">The registration is invalid or the id is taken.</exception>
    Task<RegisteredClient> RegisterAsync(ClientRegistration registration, CancellationToken cancellationToken);

    /// <summary>
    /// Disables a client: it gets no new token, and the tokens already issued to it are refused (at once on this
    /// instance, within <c>Auth:EmbeddedIssuer:DisabledClientsRefreshInterval</c> on the others).
    /// </summary>
    /// <exception cref="ClientRegistryException">No such client, or concurrent changes to it kept winning (<see cref="ClientRegistryError.Conflict"/>).</exception>
    Task DisableAsync(string clientId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a secret client a new generated secret and returns it (only this once); the old secret stops working at
    /// once, and the tokens got with an earlier secret are refused, as for a disabled client.
    /// </summary>
    /// <exception cref="ClientRegistryException">No such client, or it is disabled, or it authenticates with a public key, or concurrent changes to it kept winning (<see cref="ClientRegistryError.Conflict"/>).</exception>
    Task<string> RotateSecretAsync(string clientId, CancellationToken cancellationToken);

    /// <summary>The client with that id, or null.</summary>
    Task<ClientDescription?> FindAsync(string clientId, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="count"/> clients in client-id order, after skipping <paramref name="offset"/>.</summary>
    Task<IReadOnlyList<ClientDescription>> ListAsync(int offset, int count, CancellationToken cancellationToken);
}

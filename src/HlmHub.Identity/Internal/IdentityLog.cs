using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Internal;

/// <summary>Every log message of Identity, with fixed event ids. None carries a token or a secret.</summary>
internal static partial class IdentityLog
{
    [LoggerMessage(EventId = IdentityEventIds.RpcDenied, EventName = "RpcDenied", Level = LogLevel.Warning,
        Message = "Denied {Rpc} for client {ClientId}: {Reason} at {DeniedAt:O}")]
    public static partial void RpcDenied(ILogger logger, string rpc, string clientId, string reason, DateTimeOffset deniedAt);

    [LoggerMessage(EventId = IdentityEventIds.OwnershipNotChecked, EventName = "OwnershipNotChecked", Level = LogLevel.Error,
        Message = "{Rpc} declares ownership {Ownership} but its handler returned without calling EnsureOwns; the call was failed")]
    public static partial void OwnershipNotChecked(ILogger logger, string rpc, Ownership ownership);

    [LoggerMessage(EventId = IdentityEventIds.ClientAuthenticationFailed, EventName = "ClientAuthenticationFailed", Level = LogLevel.Warning,
        Message = "Token request from {RemoteAddress} failed client authentication for client {ClientId}: {Reason}")]
    public static partial void ClientAuthenticationFailed(ILogger logger, string remoteAddress, string clientId, string reason);

    [LoggerMessage(EventId = IdentityEventIds.TokenRequestsRateLimited, EventName = "TokenRequestsRateLimited", Level = LogLevel.Warning,
        Message = "Token request from {RemoteAddress} for client {ClientId} refused: too many failed authentications; its requests are refused for {RetryAfterSeconds} s, and those refusals are not logged")]
    public static partial void TokenRequestsRateLimited(ILogger logger, string remoteAddress, string clientId, long retryAfterSeconds);

    [LoggerMessage(EventId = IdentityEventIds.TokenIssued, EventName = "TokenIssued", Level = LogLevel.Debug,
        Message = "Issued an access token to client {ClientId} with scopes {Scopes}, key {KeyId}")]
    public static partial void TokenIssued(ILogger logger, string clientId, string scopes, string keyId);

    [LoggerMessage(EventId = IdentityEventIds.SigningKeyCreated, EventName = "SigningKeyCreated", Level = LogLevel.Information,
        Message = "Created signing key {KeyId} ({Algorithm}), signing from {ActivatesAt:O}")]
    public static partial void SigningKeyCreated(ILogger logger, string keyId, string algorithm, DateTimeOffset activatesAt);

    [LoggerMessage(EventId = IdentityEventIds.SigningKeyRevoked, EventName = "SigningKeyRevoked", Level = LogLevel.Warning,
        Message = "Revoked signing key {KeyId}: it left the JWKS and the tokens it signed no longer validate")]
    public static partial void SigningKeyRevoked(ILogger logger, string keyId);

    [LoggerMessage(EventId = IdentityEventIds.BootstrapAdminCreated, EventName = "BootstrapAdminCreated", Level = LogLevel.Warning,
        Message = "Created the bootstrap hub administrator {ClientId}; its credentials are in {Path} (mode 0600): move them to a safe place and delete the file")]
    public static partial void BootstrapAdminCreated(ILogger logger, string clientId, string path);

    [LoggerMessage(EventId = IdentityEventIds.ClientRegistryChanged, EventName = "ClientRegistered", Level = LogLevel.Information,
        Message = "Registered {Kind} client {ClientId} with scopes {Scopes} ({Credential})")]
    public static partial void ClientRegistered(ILogger logger, string kind, string clientId, string scopes, string credential);

    [LoggerMessage(EventId = IdentityEventIds.ClientDisabled, EventName = "ClientDisabled", Level = LogLevel.Information,
        Message = "Disabled client {ClientId}")]
    public static partial void ClientDisabled(ILogger logger, string clientId);

    [LoggerMessage(EventId = IdentityEventIds.ClientSecretRotated, EventName = "ClientSecretRotated", Level = LogLevel.Information,
        Message = "Rotated the secret of client {ClientId}")]
    public static partial void ClientSecretRotated(ILogger logger, string clientId);

    [LoggerMessage(EventId = IdentityEventIds.IssuerMetadataUnavailable, EventName = "IssuerMetadataUnavailable", Level = LogLevel.Warning,
        Message = "Could not read the discovery document or JWKS of {Authority}: {Reason}")]
    public static partial void IssuerMetadataUnavailable(ILogger logger, string authority, string reason);

    [LoggerMessage(EventId = IdentityEventIds.DisabledClientsUnreadable, EventName = "DisabledClientsUnreadable", Level = LogLevel.Warning,
        Message = "Could not read the disabled clients and rotated secrets from the database ({Reason}); what was read last stays in force until the next try")]
    public static partial void DisabledClientsUnreadable(ILogger logger, string reason);
}

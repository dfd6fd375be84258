namespace HlmHub.Identity;

/// <summary>Creates the first hub administrator so that somebody can register every other client.</summary>
public interface IIdentityBootstrapper
{
    /// <summary>
    /// When no enabled hub administrator exists, registers one (scope <c>hlmhub.admin</c>, no club) and writes
    /// <c>{client_id, client_secret, token_endpoint}</c> to <c>bootstrap-admin.json</c> in the data directory
    /// (mode 0600). Runs after migrations; does nothing when an administrator exists or the embedded issuer is
    /// disabled.
    /// </summary>
    /// <returns>The path of the file written, or null when nothing was created.</returns>
    Task<string?> BootstrapAsync(CancellationToken cancellationToken);
}

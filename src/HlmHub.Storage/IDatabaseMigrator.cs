namespace HlmHub.Storage;

/// <summary>
/// Brings the database schema up to date with the generated migrations of the configured provider
/// (<c>src/HlmHub.Storage.Migrations.*</c>). The host calls it at start-up (unless
/// <c>Storage:ApplyMigrationsAtStartup</c> is false) and on <c>--migrate</c>; production code never uses
/// <c>EnsureCreated</c>.
/// </summary>
public interface IDatabaseMigrator
{
    /// <summary>Applies every pending migration (creating the database when it does not exist yet).</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>The migrations the database has not applied yet, oldest first.</summary>
    Task<IReadOnlyList<string>> GetPendingMigrationsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The idempotent SQL script of every migration for the configured provider (each step runs only where it has
    /// not been applied), for a DBA to review and apply. Needs no connection to the database.
    /// </summary>
    string GenerateIdempotentScript();
}

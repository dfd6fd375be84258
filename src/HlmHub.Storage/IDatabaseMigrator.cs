namespace HlmHub.Storage;

/// <summary>
/// Brings the database schema up to date by applying HlmHub's hand-written migrations. The host calls it at
/// start-up and the CLI on demand; production code never uses <c>EnsureCreated</c>.
/// </summary>
public interface IDatabaseMigrator
{
    /// <summary>Applies every pending migration (creating the database when it does not exist yet).</summary>
    Task MigrateAsync(CancellationToken cancellationToken);
}

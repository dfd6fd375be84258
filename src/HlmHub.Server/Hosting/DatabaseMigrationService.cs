using HlmHub.Storage;

namespace HlmHub.Server.Hosting;

/// <summary>
/// Applies the schema migrations before anything else starts (it is registered first, and hosted
/// services start in registration order), so the identity bootstrap and every feature find the
/// schema they expect. Never EnsureCreated: production schemas only change through migrations.
/// </summary>
internal sealed partial class DatabaseMigrationService(IDatabaseMigrator migrator, ILogger<DatabaseMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        LogMigrated(logger);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Database schema is up to date.")]
    private static partial void LogMigrated(ILogger logger);
}

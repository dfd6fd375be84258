using HlmHub.Storage;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Hosting;

/// <summary>
/// Brings the schema up to date before anything else starts (it is registered first, and hosted services start in
/// registration order), so the identity bootstrap and every feature find the schema they expect. With
/// <c>Storage:ApplyMigrationsAtStartup=false</c> (a DBA applies reviewed scripts) it applies nothing and refuses to
/// start on a database with pending migrations, naming the commands that fix it. Never EnsureCreated: production
/// schemas only change through migrations.
/// </summary>
internal sealed partial class DatabaseMigrationService(
    IDatabaseMigrator migrator,
    IOptions<StorageOptions> storageOptions,
    ILogger<DatabaseMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (storageOptions.Value.ApplyMigrationsAtStartup)
        {
            await migrator.MigrateAsync(cancellationToken);
            LogMigrated(logger);
            return;
        }

        var pending = await migrator.GetPendingMigrationsAsync(cancellationToken);
        if (pending.Count > 0)
        {
            throw new PendingMigrationsException(
                $"The database has {pending.Count} pending migration(s) ({string.Join(", ", pending)}) and Storage:ApplyMigrationsAtStartup is false: " +
                $"apply `dotnet run --project src/HlmHub.Server -- {MigrateCommand.ScriptSwitch}` (the script for your DBA) " +
                $"or run `dotnet run --project src/HlmHub.Server -- {MigrateCommand.MigrateSwitch}`, then start the hub again.");
        }

        LogSchemaChecked(logger);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Database schema is up to date.")]
    private static partial void LogMigrated(ILogger logger);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Database schema is up to date (migrations are applied by the DBA: Storage:ApplyMigrationsAtStartup is false).")]
    private static partial void LogSchemaChecked(ILogger logger);
}

/// <summary>The hub was asked not to migrate, and the database is behind: it must not serve on the wrong schema.</summary>
internal sealed class PendingMigrationsException(string message) : Exception(message);

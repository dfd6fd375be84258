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
        // Created 0700 by the hub; one an operator created (or an older hub) may let other users read the secrets.
        var dataDirectory = Path.GetFullPath(storageOptions.Value.DataDirectory);
        if (PrivateDirectory.IsOpenToOthers(dataDirectory, out var mode))
        {
            LogDataDirectoryOpen(logger, dataDirectory, Convert.ToString((int)mode, 8));
        }

        if (storageOptions.Value.ApplyMigrationsAtStartup)
        {
            await migrator.MigrateAsync(cancellationToken);
            LogMigrated(logger);
            return;
        }

        // Program.cs already refused to start if migrations were pending (CheckSchemaAsync).
        LogSchemaChecked(logger);
    }

    /// <summary>
    /// With <c>Storage:ApplyMigrationsAtStartup=false</c>, the one-line reason the hub must not start (pending
    /// migrations, naming the commands that fix it), or null when it may. Always null when the hub migrates itself.
    /// </summary>
    public static async Task<string?> CheckSchemaAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<IOptions<StorageOptions>>().Value.ApplyMigrationsAtStartup)
        {
            return null;
        }

        var pending = await services.GetRequiredService<IDatabaseMigrator>().GetPendingMigrationsAsync(cancellationToken);
        return pending.Count == 0
            ? null
            : $"hlmhub: the database has {pending.Count} pending migration(s) ({string.Join(", ", pending)}) and Storage:ApplyMigrationsAtStartup is false: " +
              $"have the DBA apply the script from `dotnet run --project src/HlmHub.Server -- {MigrateCommand.ScriptSwitch}`, " +
              $"or run `dotnet run --project src/HlmHub.Server -- {MigrateCommand.MigrateSwitch}`, then start the hub again.";
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Database schema is up to date.")]
    private static partial void LogMigrated(ILogger logger);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "The data directory {Path} lets other users in (mode {Mode}): it holds the database and secrets; run chmod 700 on it.")]
    private static partial void LogDataDirectoryOpen(ILogger logger, string path, string mode);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Database schema is up to date (migrations are applied by the DBA: Storage:ApplyMigrationsAtStartup is false).")]
    private static partial void LogSchemaChecked(ILogger logger);
}

using HlmHub.Storage.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HlmHub.Storage.Internal;

internal sealed class DatabaseMigrator(IDbContextFactory<HlmHubDbContext> contextFactory, StorageProviderAdapter adapter)
    : IDatabaseMigrator
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var context = await contextFactory.CreateDbContextAsync(cancellationToken);
        await adapter.PrepareForMigrationAsync(context, cancellationToken);
        await context.Database.MigrateAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetPendingMigrationsAsync(CancellationToken cancellationToken)
    {
        await using var context = await contextFactory.CreateDbContextAsync(cancellationToken);
        return [.. await context.Database.GetPendingMigrationsAsync(cancellationToken)];
    }

    public string GenerateIdempotentScript()
    {
        using var context = contextFactory.CreateDbContext();
        return IdempotentScript(context, adapter);
    }

    /// <summary>The script <see cref="GenerateIdempotentScript"/> prints, for a context that is never opened.</summary>
    internal static string IdempotentScript(HlmHubDbContext context, StorageProviderAdapter adapter) =>
        adapter.ScriptPreamble + context.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
}

using HlmHub.Storage.Providers;
using Microsoft.EntityFrameworkCore;

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
}

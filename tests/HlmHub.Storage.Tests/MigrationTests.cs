using HlmHub.Storage;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Tests;

/// <summary>
/// The hand-written migrations, applied from empty, must produce exactly the schema EF Core derives from the
/// model: otherwise queries fail at run time on a column or index the model expects. The reference schema is
/// built by EnsureCreated in a second database, in this test only.
/// </summary>
public abstract class MigrationTests(StorageProvider provider)
{
    [Fact]
    public async Task MigrationsFromEmpty_ProduceTheSchemaOfTheModel()
    {
        var cancellationToken = TestTimeout.Token();
        await using var migrated = await TestDatabase.CreateAsync(provider, cancellationToken);
        await using var reference = await TestDatabase.CreateAsync(provider, cancellationToken);

        await migrated.Migrator.MigrateAsync(cancellationToken);
        reference.CreateDataDirectory();
        await using (var context = await reference.CreateContextAsync(cancellationToken))
        {
            Assert.True(await context.Database.EnsureCreatedAsync(cancellationToken));
        }

        var migratedSchema = await ReadSchemaAsync(migrated, cancellationToken);
        var modelSchema = await ReadSchemaAsync(reference, cancellationToken);

        Assert.Contains("table OpenIddictApplications", modelSchema);
        Assert.Contains("table LedgerEntries", modelSchema);
        var missing = modelSchema.Except(migratedSchema).ToList();
        var extra = migratedSchema.Except(modelSchema).ToList();
        Assert.True(
            missing.Count == 0 && extra.Count == 0,
            $"Missing from the migrated schema:\n  {string.Join("\n  ", missing)}\nExtra in the migrated schema:\n  {string.Join("\n  ", extra)}");
    }

    [Fact]
    public async Task MigratingTwice_AppliesNothingTheSecondTime()
    {
        var cancellationToken = TestTimeout.Token();
        await using var database = await TestDatabase.CreateAsync(provider, cancellationToken);

        await database.Migrator.MigrateAsync(cancellationToken);
        await database.Migrator.MigrateAsync(cancellationToken);

        await using var context = await database.CreateContextAsync(cancellationToken);
        Assert.Empty(await context.Database.GetPendingMigrationsAsync(cancellationToken));
        Assert.NotEmpty(await context.Database.GetAppliedMigrationsAsync(cancellationToken));
    }

    private static async Task<IReadOnlyList<string>> ReadSchemaAsync(TestDatabase database, CancellationToken cancellationToken)
    {
        await using var context = await database.CreateContextAsync(cancellationToken);
        var connection = context.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        return await SchemaReader.ReadAsync(connection, database.Provider, cancellationToken);
    }
}

public sealed class SqliteMigrationTests() : MigrationTests(StorageProvider.Sqlite);

public sealed class PostgresMigrationTests() : MigrationTests(StorageProvider.Postgres);

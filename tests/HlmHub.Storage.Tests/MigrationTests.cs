using HlmHub.Storage;
using HlmHub.Storage.Tests.Infrastructure;
using HlmHub.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace HlmHub.Storage.Tests;

/// <summary>
/// Each provider's generated migrations cover the model exactly (EF Core compares the model with the last
/// migration's snapshot: a model change without `tools/add-migration.sh` fails here, and the hub would refuse to
/// migrate). This needs no database, so it runs for SQL Server too.
/// </summary>
public sealed class MigrationsMatchModelTests
{
    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    [InlineData(StorageProvider.SqlServer)]
    public void Migrations_CoverTheModel_WithNoPendingChanges(StorageProvider provider)
    {
        using var context = OfflineContext.Create(provider);

        Assert.NotEmpty(context.Database.GetMigrations());
        Assert.False(context.Database.HasPendingModelChanges(), $"The {provider} migrations do not cover the model: run `bash tools/add-migration.sh NAME`.");
    }

    [Fact]
    public void EveryProvider_HasTheSameMigrationNames()
    {
        var names = new[] { StorageProvider.Sqlite, StorageProvider.Postgres, StorageProvider.SqlServer }
            .Select(provider =>
            {
                using var context = OfflineContext.Create(provider);
                // Ids are "<timestamp>_<Name>"; the timestamps differ by the seconds between the three generations.
                return string.Join(",", context.Database.GetMigrations().Select(id => id[(id.IndexOf('_', StringComparison.Ordinal) + 1)..]));
            })
            .Distinct()
            .ToList();

        Assert.Single(names);
    }
}

/// <summary>Migrations applied to a real, empty database.</summary>
public abstract class MigrationTests(StorageProvider provider)
{
    [SkippableFact]
    public async Task MigratingAnEmptyDatabase_AppliesEveryMigration_AndASecondRunAppliesNothing()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var database = await TestDatabase.CreateAsync(provider, cancellationToken);

        Assert.NotEmpty(await database.Migrator.GetPendingMigrationsAsync(cancellationToken));
        await database.Migrator.MigrateAsync(cancellationToken);
        await database.Migrator.MigrateAsync(cancellationToken);

        await using var context = await database.CreateContextAsync(cancellationToken);
        Assert.Empty(await database.Migrator.GetPendingMigrationsAsync(cancellationToken));
        Assert.Equal(context.Database.GetMigrations(), await context.Database.GetAppliedMigrationsAsync(cancellationToken));
    }

    [SkippableFact]
    public async Task UpgradingADatabaseWithHouseholds_KeepsThem_AndTakesTheirLastChangeAsTheirLastStatusChange()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var database = await TestDatabase.CreateAsync(provider, cancellationToken);
        var id = Guid.NewGuid();
        var lastChange = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero);
        await using (var context = await database.CreateContextAsync(cancellationToken))
        {
            // The schema as the last release left it, with one household written by it. EF Core's own migrator, which
            // can stop at a migration, does not create the SQLite file's directory as the hub's does.
            Directory.CreateDirectory(database.DataDirectory);
            await context.GetService<IMigrator>().MigrateAsync("AddWatchIndexes", cancellationToken);
            var landlord = Domain.Landlord.Create("bailleur-a", "Bailleur A", SampleWorld.Siren(), SampleWorld.Now);
            context.Add(landlord);
            await context.SaveChangesAsync(cancellationToken);
            var updatedAt = lastChange.ToUnixTimeMilliseconds();
            await context.Database.ExecuteSqlAsync(
                $"""INSERT INTO "Households" ("Id", "LandlordId", "LandlordReference", "MemberToken", "Rooms", "InQpv", "Status", "Version", "UpdatedAt", "SourceVersion", "LastSessionId") VALUES ({id}, {landlord.Id}, {"REF-1"}, {"mt_1"}, {3}, {false}, {"Left"}, {2L}, {updatedAt}, {0L}, {null as Guid?})""",
                cancellationToken);
        }

        await database.Migrator.MigrateAsync(cancellationToken);

        await using var upgraded = await database.CreateContextAsync(cancellationToken);
        var household = await upgraded.Households.SingleAsync(item => item.Id == id, cancellationToken);
        Assert.Equal((Domain.HouseholdStatus.Left, 2L, lastChange, lastChange), (household.Status, household.Version, household.UpdatedAt, household.StatusChangedAt));
    }
}

public sealed class SqliteMigrationTests() : MigrationTests(StorageProvider.Sqlite);

public sealed class PostgresMigrationTests() : MigrationTests(StorageProvider.Postgres);

public sealed class SqlServerMigrationTests() : MigrationTests(StorageProvider.SqlServer);

/// <summary>
/// The DBA's idempotent script (<c>--migrations-script</c>) applied by hand. Not for SQLite: it has no procedural IF, so
/// EF Core cannot generate an idempotent script for it (the hub migrates SQLite itself). No SQLite class is declared
/// rather than one that always skips: a skipped test must mean a missing server, never a test that cannot run.
/// </summary>
public abstract class IdempotentScriptTests(StorageProvider provider)
{
    [SkippableFact]
    public async Task IdempotentScript_AppliedTwiceByHand_CreatesTheSchemaTheHubThenAccepts()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var database = await TestDatabase.CreateAsync(provider, cancellationToken);
        var script = database.Migrator.GenerateIdempotentScript();

        await using (var context = await database.CreateContextAsync(cancellationToken))
        {
            // What a DBA does: run the script (twice, as an idempotent script may be), outside the hub's migrator.
            var connection = context.Database.GetDbConnection();
            await connection.OpenAsync(cancellationToken);
            foreach (var batch in OfflineContext.Batches(script).Concat(OfflineContext.Batches(script)))
            {
                await using var command = connection.CreateCommand();
                command.CommandText = batch;
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        Assert.Empty(await database.Migrator.GetPendingMigrationsAsync(cancellationToken));
    }
}

public sealed class PostgresIdempotentScriptTests() : IdempotentScriptTests(StorageProvider.Postgres);

public sealed class SqlServerIdempotentScriptTests() : IdempotentScriptTests(StorageProvider.SqlServer);

/// <summary>A context on a provider with a connection string that is never opened.</summary>
internal static class OfflineContext
{
    public static HlmHubDbContext Create(StorageProvider provider) => new(HlmHubDbContextOptions.Create(provider, provider switch
    {
        StorageProvider.Sqlite => "Data Source=offline.db",
        StorageProvider.Postgres => "Host=offline.invalid;Database=offline",
        _ => "Server=offline.invalid;Database=offline;TrustServerCertificate=true;Connect Timeout=1",
    }));

    /// <summary>The script the hub prints for <c>--migrations-script</c>.</summary>
    public static string IdempotentScript(StorageProvider provider)
    {
        using var context = Create(provider);
        return Internal.DatabaseMigrator.IdempotentScript(context, Providers.StorageProviderAdapter.For(provider));
    }

    /// <summary>A SQL Server script's batches, which sqlcmd and SSMS send one by one (GO lines); a PostgreSQL script is one.</summary>
    public static IEnumerable<string> Batches(string script) =>
        System.Text.RegularExpressions.Regex.Split(script, @"^\s*GO\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Where(batch => !string.IsNullOrWhiteSpace(batch));
}

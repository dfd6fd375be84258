using HlmHub.Domain;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace HlmHub.Storage.Tests;

/// <summary>
/// <see cref="BulkInsert"/> on a real database: rows inserted in several multi-row statements read back through EF
/// Core exactly as written (every mapped property: converted enums, instants, GUIDs), and a unique violation is a
/// <see cref="DbUpdateException"/> that the storage's error check recognises, with nothing of the transaction kept.
/// </summary>
public abstract class BulkInsertTests(MigratedDatabaseFixture fixture)
{
    [Fact]
    public async Task HouseholdsAndMemberships_InSeveralStatements_ReadBackAsWritten()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = new SampleWorld();
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            world.AddTo(context);
            await context.SaveChangesAsync(cancellationToken);
        }

        // More households than one statement holds on this provider, so the last statement is a partial one.
        int rowsPerStatement;
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            rowsPerStatement = BulkInsert.RowsPerStatement<Household>(context);
        }

        var count = (rowsPerStatement * 2) + 7;
        var households = Enumerable.Range(0, count)
            .Select(index => Household.Create(Guid.CreateVersion7(), world.Landlord.Id, $"BULK-{world.Suffix}-{index:D5}", $"mt_bulk_{world.Suffix}_{index:D5}",
                1 + (index % 7), index % 2 == 0, SampleWorld.Now.AddMinutes(index), sourceVersion: index))
            .ToList();
        var memberships = households.Select(household => Membership.Join(world.Club, household, landlordFederated: household.InQpv, SampleWorld.Now)).ToList();
        memberships[0].Leave(SampleWorld.Now.AddHours(3));
        households[1].ApplyRoster(2, false, HouseholdStatus.Left, 99, SampleWorld.Now.AddDays(1));

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            await context.InsertAllAsync(households, cancellationToken);
            await context.InsertAllAsync(memberships, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var storedHouseholds = await context.Households.AsNoTracking()
                .Where(household => household.LandlordId == world.Landlord.Id && household.LandlordReference.StartsWith("BULK-"))
                .ToListAsync(cancellationToken);
            AssertSameRows(context, households, storedHouseholds, household => household.Id);
            var ids = households.Select(household => household.Id).ToList();
            var storedMemberships = await context.Memberships.AsNoTracking()
                .Where(membership => ids.Contains(membership.HouseholdId))
                .ToListAsync(cancellationToken);
            AssertSameRows(context, memberships, storedMemberships, membership => membership.HouseholdId);
            // Found by the values the queries compare in SQL, as SaveChanges would have stored them.
            Assert.Equal(1, await context.Households.CountAsync(household => household.Id == households[1].Id && household.Status == HouseholdStatus.Left, cancellationToken));
            Assert.Equal(1, await context.Memberships.CountAsync(membership => ids.Contains(membership.HouseholdId) && membership.LeftAt > SampleWorld.Now, cancellationToken));
        }
    }

    [Fact]
    public async Task ADuplicateMemberToken_IsAUniqueViolation_AndTheTransactionKeepsNothing()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = new SampleWorld();
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            world.AddTo(context);
            await context.SaveChangesAsync(cancellationToken);
        }

        var fresh = Household.Create(Guid.CreateVersion7(), world.Landlord.Id, "DUP-" + world.Suffix, "mt_dup_" + world.Suffix, 3, false, SampleWorld.Now);
        var clash = Household.Create(Guid.CreateVersion7(), world.Landlord.Id, "DUP2-" + world.Suffix, world.Household.MemberToken, 3, false, SampleWorld.Now);

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            await context.InsertAllAsync([fresh], cancellationToken);
            var error = await Assert.ThrowsAsync<DbUpdateException>(() => context.InsertAllAsync([clash], cancellationToken));
            Assert.True(StorageErrors.IsUniqueViolation(error), error.ToString());
            await transaction.RollbackAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            Assert.False(await context.Households.AnyAsync(household => household.Id == fresh.Id || household.Id == clash.Id, cancellationToken));
        }
    }

    // Every mapped property of each written row equals the stored row's (EF Core's own getters, so none is forgotten).
    private static void AssertSameRows<T, TKey>(DbContext context, List<T> written, List<T> stored, Func<T, TKey> key)
        where T : class
        where TKey : notnull
    {
        Assert.Equal(written.Count, stored.Count);
        var byKey = stored.ToDictionary(key);
        var properties = context.Model.FindEntityType(typeof(T))!.GetProperties().ToList();
        foreach (var row in written)
        {
            var read = byKey[key(row)];
            foreach (var property in properties)
            {
                Assert.Equal(property.GetGetter().GetClrValue(row), property.GetGetter().GetClrValue(read));
            }
        }
    }
}

public sealed class SqliteBulkInsertTests(SqliteDatabaseFixture fixture)
    : BulkInsertTests(fixture), IClassFixture<SqliteDatabaseFixture>
{
    /// <summary>
    /// One context over several transactions, as a roster session keeps one, its connection opened and closed around
    /// each: Microsoft.Data.Sqlite pools the handles behind connections, so a later transaction can run on another
    /// handle than an earlier one. The rows of that transaction go in it, and its rollback keeps none of them. (The
    /// statements kept from an earlier opening used to run on the handle they were compiled on, outside the
    /// transaction: the insert waited for the write lock its own transaction held, or ran beside another connection's
    /// work.)
    /// </summary>
    [Fact]
    public async Task OneContextOverSeveralTransactions_OnAnotherPooledHandle_WritesInItsOwnTransaction()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = new SampleWorld();
        await using (var setup = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            world.AddTo(setup);
            await setup.SaveChangesAsync(cancellationToken);
        }

        await using var context = await fixture.Database.CreateContextAsync(cancellationToken);
        // A statement run outside the transaction waits for the write lock the transaction holds: fail in seconds.
        context.Database.SetCommandTimeout(3);
        var committed = new List<Household>();
        object? lastHandle = null;
        for (var round = 0; round < 2; round++)
        {
            await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            lastHandle = Handle(context);
            var household = NewHousehold(world, $"KEPT-{round}");
            await context.InsertAllAsync([household], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            committed.Add(household);
        }

        // Another connection takes the handle the pool gave the last transaction, so the next one opens on another.
        await using var other = await fixture.Database.CreateContextAsync(cancellationToken);
        await other.Database.OpenConnectionAsync(cancellationToken);
        Assert.Same(lastHandle, Handle(other));
        var rolledBack = NewHousehold(world, "ROLLED-BACK");
        await using (var transaction = await context.Database.BeginTransactionAsync(cancellationToken))
        {
            Assert.NotSame(lastHandle, Handle(context));
            await context.InsertAllAsync([rolledBack], cancellationToken);
            await transaction.RollbackAsync(cancellationToken);
        }

        var kept = committed.Select(household => household.Id).ToList();
        Assert.Equal(2, await other.Households.CountAsync(household => kept.Contains(household.Id), cancellationToken));
        Assert.False(await other.Households.AnyAsync(household => household.Id == rolledBack.Id, cancellationToken));
    }

    // The native SQLite handle the context's connection holds while open.
    private static object? Handle(DbContext context) => ((Microsoft.Data.Sqlite.SqliteConnection)context.Database.GetDbConnection()).Handle;

    private static Household NewHousehold(SampleWorld world, string reference) =>
        Household.Create(Guid.CreateVersion7(), world.Landlord.Id, $"{reference}-{world.Suffix}", $"mt_{reference}_{world.Suffix}", 3, false, SampleWorld.Now);
}

public sealed class PostgresBulkInsertTests(PostgresDatabaseFixture fixture)
    : BulkInsertTests(fixture), IClassFixture<PostgresDatabaseFixture>;

/// <summary>SQL Server, without a server: the statement BulkInsert builds is valid T-SQL within the server's limits.</summary>
public sealed class SqlServerBulkInsertStatementTests
{
    [Fact]
    public void AFullStatement_IsValidTSql_WithinTheParameterAndRowLimits()
    {
        using var context = OfflineContext.Create(StorageProvider.SqlServer);
        var landlordId = "bailleur-bulk";
        var columns = context.Model.FindEntityType(typeof(Household))!.GetProperties().Count();
        var rows = Enumerable.Range(0, BulkInsert.RowsPerStatement<Household>(context))
            .Select(index => Household.Create(Guid.CreateVersion7(), landlordId, $"REF-{index}", $"mt_{index}", 3, false, SampleWorld.Now))
            .ToList();
        using var command = context.Database.GetDbConnection().CreateCommand();

        BulkInsert.Fill(command, context, rows, 0, rows.Count);

        Assert.StartsWith("INSERT INTO [Households] ([", command.CommandText, StringComparison.Ordinal);
        Assert.Equal(rows.Count * columns, command.Parameters.Count);
        Assert.True(command.Parameters.Count <= 2_100, $"{command.Parameters.Count} parameters: SQL Server takes at most 2,100");
        var parsed = new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(command.CommandText), out var errors);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(error => error.Message)));
        // One statement, and of its kind: nothing of the data was read as SQL.
        Assert.IsType<InsertStatement>(Assert.Single(Assert.IsType<TSqlScript>(parsed).Batches.SelectMany(batch => batch.Statements)));
    }
}

using HlmHub.Domain;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace HlmHub.Storage.Tests;

/// <summary>
/// <see cref="BulkUpdate"/> on a real database: the chosen columns of rows spread over several statements are stored
/// as EF Core reads them back, the other columns and the rows not listed are left alone, and a row missing from the
/// table fails the call with nothing of the transaction kept.
/// </summary>
public abstract class BulkUpdateTests(MigratedDatabaseFixture fixture)
{
    private static readonly string[] RoomsStatusAndMark = [nameof(Household.Rooms), nameof(Household.Status), nameof(Household.LastSessionId)];

    [Fact]
    public async Task ChosenColumns_OfRowsInSeveralStatements_AreStored_AndNothingElseChanges()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = new SampleWorld();
        int rowsPerStatement;
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            rowsPerStatement = BulkUpdate.RowsPerStatement<Household>(context, RoomsStatusAndMark);
        }

        // More rows than one statement holds on this provider, so the last statement is a partial one.
        var households = await InsertHouseholdsAsync(world, (rowsPerStatement * 2) + 5, cancellationToken);
        var untouched = households[^1];
        var updated = households[..^1];
        var session = Guid.NewGuid();
        foreach (var household in updated)
        {
            // Changes InQpv, Version, UpdatedAt and SourceVersion too: those must not reach the table.
            household.ApplyRoster(1 + (household.Rooms % 7), !household.InQpv, HouseholdStatus.Left, household.SourceVersion + 10, SampleWorld.Now.AddDays(2));
            household.SeenInSession(session);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            await context.UpdateAllAsync(updated, RoomsStatusAndMark, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var stored = await context.Households.AsNoTracking()
                .Where(household => household.LandlordId == world.Landlord.Id && household.LandlordReference.StartsWith("UPD-"))
                .ToDictionaryAsync(household => household.Id, cancellationToken);
            Assert.Equal(households.Length, stored.Count);
            foreach (var household in updated)
            {
                var read = stored[household.Id];
                Assert.Equal((household.Rooms, household.Status, household.LastSessionId), (read.Rooms, read.Status, read.LastSessionId));
                Assert.Equal((!household.InQpv, 1L, SampleWorld.Now, household.SourceVersion - 10), (read.InQpv, read.Version, read.UpdatedAt, read.SourceVersion));
            }

            var last = stored[untouched.Id];
            Assert.Equal((untouched.Rooms, HouseholdStatus.Active, (Guid?)null), (last.Rooms, last.Status, last.LastSessionId));
            // Found by the values the queries compare in SQL (the enum's stored name, the GUID's stored form).
            Assert.Equal(updated.Length, await context.Households.CountAsync(
                household => household.LandlordId == world.Landlord.Id && household.Status == HouseholdStatus.Left && household.LastSessionId == session, cancellationToken));
        }
    }

    [Fact]
    public async Task ARowNotInTheTable_FailsTheCall_AndTheTransactionKeepsNothing()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = new SampleWorld();
        var households = await InsertHouseholdsAsync(world, 2, cancellationToken);
        var missing = Household.Create(Guid.CreateVersion7(), world.Landlord.Id, "UPD-MISSING", "mt_upd_missing_" + world.Suffix, 2, false, SampleWorld.Now);
        households[0].ApplyRoster(7, false, HouseholdStatus.Left, 5, SampleWorld.Now.AddDays(1));

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
            var error = await Assert.ThrowsAsync<DbUpdateConcurrencyException>(
                () => context.UpdateAllAsync([households[0], missing], RoomsStatusAndMark, cancellationToken));
            Assert.Contains("matched 1", error.Message, StringComparison.Ordinal);
            await transaction.RollbackAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var read = await context.Households.AsNoTracking().SingleAsync(household => household.Id == households[0].Id, cancellationToken);
            Assert.Equal((1, HouseholdStatus.Active), (read.Rooms, read.Status));
        }
    }

    private async Task<Household[]> InsertHouseholdsAsync(SampleWorld world, int count, CancellationToken cancellationToken)
    {
        var households = Enumerable.Range(0, count)
            .Select(index => Household.Create(Guid.CreateVersion7(), world.Landlord.Id, $"UPD-{index:D5}", $"mt_upd_{world.Suffix}_{index:D5}",
                1 + (index % 6), index % 2 == 0, SampleWorld.Now, sourceVersion: index))
            .ToArray();
        await using var context = await fixture.Database.CreateContextAsync(cancellationToken);
        world.AddTo(context);
        context.AddRange(households);
        await context.SaveChangesAsync(cancellationToken);
        return households;
    }
}

public sealed class SqliteBulkUpdateTests(SqliteDatabaseFixture fixture)
    : BulkUpdateTests(fixture), IClassFixture<SqliteDatabaseFixture>;

public sealed class PostgresBulkUpdateTests(PostgresDatabaseFixture fixture)
    : BulkUpdateTests(fixture), IClassFixture<PostgresDatabaseFixture>;

/// <summary>SQL Server, without a server: the statement BulkUpdate builds is valid T-SQL within the server's limits.</summary>
public sealed class SqlServerBulkUpdateStatementTests
{
    private static readonly string[] RosterColumns =
    [
        nameof(Household.Rooms), nameof(Household.InQpv), nameof(Household.Status), nameof(Household.Version),
        nameof(Household.UpdatedAt), nameof(Household.SourceVersion), nameof(Household.LastSessionId),
    ];

    [Fact]
    public void AFullStatement_IsValidTSql_JoiningOnTheKey_WithinTheParameterLimit()
    {
        using var context = OfflineContext.Create(StorageProvider.SqlServer);
        var rows = Enumerable.Range(0, BulkUpdate.RowsPerStatement<Household>(context, RosterColumns))
            .Select(index => Household.Create(Guid.CreateVersion7(), "bailleur-bulk", $"REF-{index}", $"mt_{index}", 3, false, SampleWorld.Now))
            .ToList();
        using var command = context.Database.GetDbConnection().CreateCommand();

        BulkUpdate.Fill(command, context, rows, RosterColumns, 0, rows.Count);

        Assert.StartsWith("UPDATE [t] SET [Rooms] = [v].[column2]", command.CommandText, StringComparison.Ordinal);
        Assert.EndsWith("ON [t].[Id] = [v].[column1]", command.CommandText, StringComparison.Ordinal);
        Assert.Equal(rows.Count * (RosterColumns.Length + 1), command.Parameters.Count);
        Assert.True(command.Parameters.Count <= 2_100, $"{command.Parameters.Count} parameters: SQL Server takes at most 2,100");
        var parsed = new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(command.CommandText), out var errors);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(error => error.Message)));
        // One statement, and of its kind: nothing of the data was read as SQL.
        Assert.IsType<UpdateStatement>(Assert.Single(Assert.IsType<TSqlScript>(parsed).Batches.SelectMany(batch => batch.Statements)));
    }

    [Fact]
    public async Task ARowListedTwice_OrTheKeyAsAColumnToSet_IsRefused_BeforeAnyStatement()
    {
        using var context = OfflineContext.Create(StorageProvider.SqlServer);
        var household = Household.Create(Guid.CreateVersion7(), "bailleur-bulk", "REF-1", "mt_1", 3, false, SampleWorld.Now);

        var twice = await Assert.ThrowsAsync<ArgumentException>(() => context.UpdateAllAsync([household, household], RosterColumns, CancellationToken.None));
        Assert.Contains("listed twice", twice.Message, StringComparison.Ordinal);
        var key = await Assert.ThrowsAsync<ArgumentException>(() => context.UpdateAllAsync([household], [nameof(Household.Id)], CancellationToken.None));
        Assert.Contains("is the key", key.Message, StringComparison.Ordinal);
    }
}

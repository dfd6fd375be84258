using System.Data.Common;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HlmHub.Storage.Tests;

/// <summary>
/// The ledger's rules held by the database itself, proven with raw SQL over a plain ADO.NET connection (no EF Core,
/// so none of its checks run): what a bug, a script or a manual edit would send. The club, accounts and closed month
/// these tests need are set up through EF Core; every statement under test is raw SQL.
/// </summary>
public abstract class LedgerGuardSqlTests(MigratedDatabaseFixture fixture)
{
    private const long Cents = 10_000;

    [Fact]
    public async Task BalancedTransaction_WrittenWithRawSql_IsCommitted()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var id = Guid.NewGuid();

        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await InsertTransactionAsync(connection, transaction, id, world, "raw:" + id, world.OpenPeriod, cancellationToken);
            await InsertEntryAsync(connection, transaction, id, 1, world.Receivable, "Debit", Cents, cancellationToken);
            await InsertEntryAsync(connection, transaction, id, 2, world.Revenue, "Credit", Cents, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        Assert.Equal(2L, await CountEntriesAsync(connection, id, cancellationToken));
    }

    [Fact]
    public async Task UnbalancedTransaction_WrittenWithRawSql_IsRefusedAtCommitAndLeavesNothing()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var id = Guid.NewGuid();

        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await InsertTransactionAsync(connection, transaction, id, world, "raw:" + id, world.OpenPeriod, cancellationToken);
            await InsertEntryAsync(connection, transaction, id, 1, world.Receivable, "Debit", Cents, cancellationToken);
            await InsertEntryAsync(connection, transaction, id, 2, world.Revenue, "Credit", Cents - 1, cancellationToken);
            await Assert.ThrowsAnyAsync<DbException>(() => transaction.CommitAsync(cancellationToken));
        }

        Assert.Equal(0L, await CountTransactionsAsync(connection, id, cancellationToken));
        Assert.Equal(0L, await CountEntriesAsync(connection, id, cancellationToken));
    }

    [Fact]
    public async Task TransactionWithoutEntries_WrittenWithRawSql_IsRefused()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var id = Guid.NewGuid();

        // One statement in autocommit mode: it commits (and is checked) on its own.
        await Assert.ThrowsAnyAsync<DbException>(() =>
            InsertTransactionAsync(connection, null, id, world, "raw:" + id, world.OpenPeriod, cancellationToken));

        Assert.Equal(0L, await CountTransactionsAsync(connection, id, cancellationToken));
    }

    [Fact]
    public async Task EntryAddedToACommittedTransaction_WithRawSql_IsRefused()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);

        await Assert.ThrowsAnyAsync<DbException>(() =>
            InsertEntryAsync(connection, null, world.CommittedTransactionId, 3, world.Revenue, "Credit", 500, cancellationToken));

        Assert.Equal(2L, await CountEntriesAsync(connection, world.CommittedTransactionId, cancellationToken));
    }

    [Fact]
    public async Task LedgerRows_CannotBeUpdatedOrDeletedWithRawSql()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var id = Parameter(world.CommittedTransactionId);

        await AssertRefusedAsync(connection, "UPDATE \"LedgerEntries\" SET \"Amount\" = 1 WHERE \"TransactionId\" = @p0", cancellationToken, id);
        await AssertRefusedAsync(connection, "DELETE FROM \"LedgerEntries\" WHERE \"TransactionId\" = @p0", cancellationToken, id);
        await AssertRefusedAsync(connection, "UPDATE \"LedgerTransactions\" SET \"Description\" = 'edited' WHERE \"Id\" = @p0", cancellationToken, id);
        await AssertRefusedAsync(connection, "DELETE FROM \"LedgerTransactions\" WHERE \"Id\" = @p0", cancellationToken, id);
        await AssertRefusedAsync(connection, "DELETE FROM \"PeriodClosures\" WHERE \"ClubId\" = @p0", cancellationToken, world.ClubId);

        Assert.Equal(2L, await CountEntriesAsync(connection, world.CommittedTransactionId, cancellationToken));
        Assert.Equal(1L, await CountTransactionsAsync(connection, world.CommittedTransactionId, cancellationToken));
    }

    [Fact]
    public async Task NonPositiveAmountsAndUnknownSides_AreRefusedByCheckConstraints()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);

        foreach (var (side, amount) in new[] { ("Debit", 0L), ("Debit", -Cents), ("Sideways", Cents) })
        {
            var id = Guid.NewGuid();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await InsertTransactionAsync(connection, transaction, id, world, "raw:" + id, world.OpenPeriod, cancellationToken);
            var error = await Assert.ThrowsAnyAsync<DbException>(() =>
                InsertEntryAsync(connection, transaction, id, 1, world.Receivable, side, amount, cancellationToken));
            Assert.Contains("CK_LedgerEntries_", error.Message + " " + (error as PostgresException)?.ConstraintName, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task SameIdempotencyKeyTwice_WithRawSql_IsRefused()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var id = Guid.NewGuid();

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var error = await Assert.ThrowsAnyAsync<DbException>(() =>
            InsertTransactionAsync(connection, transaction, id, world, world.CommittedIdempotencyKey, world.OpenPeriod, cancellationToken));
        Assert.True(StorageErrors.IsUniqueViolation(error), error.ToString());
    }

    [Fact]
    public async Task ExistingEntryOrClosureKey_InsertedAgain_IsAUniqueViolation()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);

        // Closing a month twice at once is a race the hub expects (AdminService.ClosePeriod reads the winner's
        // closure on a unique violation): on SQLite the guard against REPLACE refuses it first, and must say the same.
        var closure = await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync(
            connection, null, "INSERT INTO \"PeriodClosures\" (\"ClubId\", \"Period\", \"ClosedAt\") VALUES (@p0, @p1, 0)", cancellationToken,
            world.ClubId, world.ClosedPeriod.Key));
        Assert.True(StorageErrors.IsUniqueViolation(closure), closure.ToString());

        // Rolled back before EF Core writes: on SQLite the refused insert has taken the write lock.
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var entry = await Assert.ThrowsAnyAsync<DbException>(() =>
                InsertEntryAsync(connection, transaction, world.CommittedTransactionId, 1, world.Receivable, "Debit", Cents, cancellationToken));
            Assert.True(StorageErrors.IsUniqueViolation(entry), entry.ToString());
        }

        await using var context = await fixture.Database.CreateContextAsync(cancellationToken);
        context.PeriodClosures.Add(PeriodClosure.Close(world.ClubId, world.ClosedPeriod, SampleWorld.Now));
        var saved = await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(cancellationToken));
        Assert.True(StorageErrors.IsUniqueViolation(saved), saved.ToString());
    }

    [Fact]
    public async Task BookingIntoAClosedMonth_WithRawSql_IsRefused()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var id = Guid.NewGuid();

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var error = await Assert.ThrowsAnyAsync<DbException>(() =>
            InsertTransactionAsync(connection, transaction, id, world, "raw:" + id, world.ClosedPeriod, cancellationToken));
        Assert.Contains("closed", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A raw connection as a script or a DBA tool would open it.</summary>
    protected async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = fixture.Database.Provider switch
        {
            StorageProvider.Sqlite => new SqliteConnection(fixture.Database.ConnectionString),
            StorageProvider.Postgres => new NpgsqlConnection(fixture.Database.ConnectionString),
            var other => throw new NotSupportedException($"No raw SQL test connection for {other}."),
        };
        await connection.OpenAsync(cancellationToken);
        if (connection is SqliteConnection)
        {
            // SQLite enforces foreign keys per connection; EF Core turns them on for its own connections, and the
            // balance guard relies on a deferred foreign key (docs/storage.md).
            await ExecuteAsync(connection, null, "PRAGMA foreign_keys = ON", cancellationToken);
        }

        return connection;
    }

    /// <summary>SQLite stores EF Core's Guids as upper-case text; PostgreSQL as uuid.</summary>
    private object Parameter(Guid id) =>
        fixture.Database.Provider == StorageProvider.Sqlite ? id.ToString().ToUpperInvariant() : id;

    private Task InsertTransactionAsync(
        DbConnection connection, DbTransaction? transaction, Guid id, LedgerWorld world, string idempotencyKey, Period period, CancellationToken cancellationToken) =>
        ExecuteAsync(
            connection,
            transaction,
            "INSERT INTO \"LedgerTransactions\" (\"Id\", \"IdempotencyKey\", \"ClubId\", \"Kind\", \"Period\", \"Description\", \"OccurredAt\", \"RecordedAt\") " +
            "VALUES (@p0, @p1, @p2, 'FeeAccrual', @p3, 'raw', 0, 0)",
            cancellationToken,
            Parameter(id),
            idempotencyKey,
            world.ClubId,
            period.Year * 100 + period.Month);

    private Task InsertEntryAsync(
        DbConnection connection, DbTransaction? transaction, Guid transactionId, int line, string accountId, string side, long amount, CancellationToken cancellationToken) =>
        ExecuteAsync(
            connection,
            transaction,
            "INSERT INTO \"LedgerEntries\" (\"TransactionId\", \"Line\", \"AccountId\", \"Side\", \"Amount\") VALUES (@p0, @p1, @p2, @p3, @p4)",
            cancellationToken,
            Parameter(transactionId),
            line,
            accountId,
            side,
            amount);

    private async Task<long> CountEntriesAsync(DbConnection connection, Guid transactionId, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, "SELECT COUNT(*) FROM \"LedgerEntries\" WHERE \"TransactionId\" = @p0", cancellationToken, Parameter(transactionId));

    private async Task<long> CountTransactionsAsync(DbConnection connection, Guid id, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, "SELECT COUNT(*) FROM \"LedgerTransactions\" WHERE \"Id\" = @p0", cancellationToken, Parameter(id));

    private static async Task AssertRefusedAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        var error = await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync(connection, null, sql, cancellationToken, parameters));
        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
    }

    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = CreateCommand(connection, transaction, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<long> ScalarAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = CreateCommand(connection, null, sql, parameters);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction, string sql, object[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        for (var index = 0; index < parameters.Length; index++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + index;
            parameter.Value = parameters[index];
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <summary>A club with its fee accounts, one committed balanced transaction and one closed month, set up through EF Core.</summary>
    protected sealed record LedgerWorld(
        string ClubId, string Receivable, string Revenue, Guid CommittedTransactionId, string CommittedIdempotencyKey, Period OpenPeriod, Period ClosedPeriod)
    {
        public static async Task<LedgerWorld> CreateAsync(TestDatabase database, CancellationToken cancellationToken)
        {
            var data = new SampleWorld();
            var (receivable, revenue) = data.FeeAccounts();
            var committed = data.FeeAccrual("fee:" + data.Suffix);
            var closed = Period.Of(SampleWorld.Now).Previous();
            await using var context = await database.CreateContextAsync(cancellationToken);
            data.AddTo(context);
            context.AddRange(receivable, revenue, committed, PeriodClosure.Close(data.Club.Id, closed, SampleWorld.Now));
            await context.SaveChangesAsync(cancellationToken);
            return new LedgerWorld(data.Club.Id, receivable.Id, revenue.Id, committed.Id, committed.IdempotencyKey, committed.Period, closed);
        }
    }
}

public sealed class SqliteLedgerGuardSqlTests(SqliteDatabaseFixture fixture)
    : LedgerGuardSqlTests(fixture), IClassFixture<SqliteDatabaseFixture>
{
    [Fact]
    public async Task EfCoreConnections_EnforceForeignKeys_WhichTheSqliteBalanceGuardNeeds()
    {
        var cancellationToken = TestTimeouts.Token();
        await using var context = await fixture.Database.CreateContextAsync(cancellationToken);
        var connection = context.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA foreign_keys";
        Assert.Equal(1L, Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// REPLACE INTO deletes the row whose key it meets and inserts its own, and that delete fires no DELETE trigger
    /// (recursive_triggers is off): without the BEFORE INSERT guards it rewrote a committed entry, and a closed month.
    /// </summary>
    [Fact]
    public async Task ReplaceInto_CommittedEntriesAndClosures_IsRefusedAndChangesNothing()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = await LedgerWorld.CreateAsync(fixture.Database, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        var transactionId = world.CommittedTransactionId.ToString().ToUpperInvariant();
        var before = await DumpAsync(connection, world, cancellationToken);

        // Balanced, positive, on a known account: every other guard lets these rows through.
        var entries = await Assert.ThrowsAsync<SqliteException>(() => ExecuteAsync(
            connection, null,
            "REPLACE INTO \"LedgerEntries\" VALUES (@p0, 1, @p1, 'Debit', 999999), (@p0, 2, @p1, 'Credit', 999999)",
            cancellationToken, transactionId, world.Revenue));
        Assert.Contains("append-only", entries.Message, StringComparison.Ordinal);
        var closure = await Assert.ThrowsAsync<SqliteException>(() => ExecuteAsync(
            connection, null, "INSERT OR REPLACE INTO \"PeriodClosures\" VALUES (@p0, @p1, 42)", cancellationToken, world.ClubId, world.ClosedPeriod.Key));
        Assert.Contains("append-only", closure.Message, StringComparison.Ordinal);
        // A transaction has no such trigger: its entries' ON DELETE RESTRICT key refuses REPLACE's implicit delete.
        await Assert.ThrowsAsync<SqliteException>(() => ExecuteAsync(
            connection, null,
            "REPLACE INTO \"LedgerTransactions\" (\"Id\", \"IdempotencyKey\", \"ClubId\", \"Kind\", \"Period\", \"Description\", \"OccurredAt\", \"RecordedAt\") " +
            "VALUES (@p0, @p1, @p2, 'FeeAccrual', @p3, 'rewritten', 0, 0)",
            cancellationToken, transactionId, world.CommittedIdempotencyKey, world.ClubId, world.OpenPeriod.Key));

        Assert.Equal(before, await DumpAsync(connection, world, cancellationToken));
    }

    /// <summary>The committed transaction's row and entries and the club's closures, as text.</summary>
    private static async Task<string> DumpAsync(DbConnection connection, LedgerWorld world, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT 'entry', \"Line\", \"AccountId\", \"Side\", \"Amount\" FROM \"LedgerEntries\" WHERE \"TransactionId\" = $id " +
            "UNION ALL SELECT 'transaction', \"Period\", \"Kind\", \"Description\", \"RecordedAt\" FROM \"LedgerTransactions\" WHERE \"Id\" = $id " +
            "UNION ALL SELECT 'closure', \"Period\", \"ClubId\", '', \"ClosedAt\" FROM \"PeriodClosures\" WHERE \"ClubId\" = $club ORDER BY 1, 2";
        command.Parameters.Add(new SqliteParameter("$id", world.CommittedTransactionId.ToString().ToUpperInvariant()));
        command.Parameters.Add(new SqliteParameter("$club", world.ClubId));
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(reader.GetValue)));
        }

        Assert.Equal(4, rows.Count);
        return string.Join("\n", rows);
    }
}

public sealed class PostgresLedgerGuardSqlTests(PostgresDatabaseFixture fixture)
    : LedgerGuardSqlTests(fixture), IClassFixture<PostgresDatabaseFixture>
{
    [Theory]
    [InlineData("LedgerEntries")]
    [InlineData("LedgerTransactions")]
    [InlineData("PeriodClosures")]
    public async Task Truncate_IsRefused(string table)
    {
        var cancellationToken = TestTimeouts.Token();
        await using var connection = await OpenAsync(cancellationToken);
        // CASCADE would truncate every referencing table too; the trigger refuses before anything goes.
        var error = await Assert.ThrowsAnyAsync<DbException>(() =>
            ExecuteAsync(connection, null, $"TRUNCATE \"{table}\" CASCADE", cancellationToken));
        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
    }
}

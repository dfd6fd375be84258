using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Tests;

/// <summary>
/// <see cref="LedgerInserts"/> on a real database, through the ledger's own guards: transactions of two and three
/// entries, more than one statement of each, written twice on one open connection (the second time through the
/// statements the first one made, as the redemption group commit does), read back exactly as written.
/// </summary>
public abstract class LedgerInsertsTests(MigratedDatabaseFixture fixture)
{
    [Fact]
    public async Task Transactions_WrittenTwiceOnOneOpenConnection_ReadBackAsWritten_EntriesIncluded()
    {
        var cancellationToken = TestTimeouts.Token();
        var world = new SampleWorld();
        var (debit, credit) = world.FeeAccounts();
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            world.AddTo(context);
            context.AddRange(debit, credit);
            await context.SaveChangesAsync(cancellationToken);
        }

        var first = Transactions(world, debit, credit, "first", 70);
        var second = Transactions(world, debit, credit, "second", 70);
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            await context.Database.OpenConnectionAsync(cancellationToken);
            foreach (var transactions in new[] { first, second })
            {
                await using var transaction = await context.Database.BeginTransactionAsync(cancellationToken);
                await context.InsertLedgerTransactionsAsync(transactions, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var written = first.Concat(second).ToList();
            var keys = written.Select(transaction => transaction.IdempotencyKey).ToList();
            var stored = (await context.LedgerTransactions.AsNoTracking().Include(transaction => transaction.Entries)
                    .Where(transaction => keys.Contains(transaction.IdempotencyKey))
                    .ToListAsync(cancellationToken))
                .ToDictionary(transaction => transaction.Id);
            Assert.Equal(written.Count, stored.Count);
            foreach (var transaction in written)
            {
                var read = stored[transaction.Id];
                Assert.Equal(
                    (transaction.IdempotencyKey, transaction.Kind, transaction.Period, transaction.Description, transaction.OccurredAt, transaction.RecordedAt),
                    (read.IdempotencyKey, read.Kind, read.Period, read.Description, read.OccurredAt, read.RecordedAt));
                Assert.Equal(
                    transaction.Entries.Select(entry => (entry.Line, entry.AccountId, entry.Side, entry.Amount)),
                    read.Entries.OrderBy(entry => entry.Line).Select(entry => (entry.Line, entry.AccountId, entry.Side, entry.Amount)));
            }
        }
    }

    /// <summary>Transactions of two entries and of three (a debit split in two), with amounts that differ per transaction.</summary>
    internal static List<LedgerTransaction> Transactions(SampleWorld world, LedgerAccount debit, LedgerAccount credit, string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(index =>
        {
            var amount = 100 + index;
            IReadOnlyList<Posting> postings = index % 2 == 0
                ? [Posting.Debit(debit.Id, new Money(amount)), Posting.Credit(credit.Id, new Money(amount))]
                : [Posting.Debit(debit.Id, new Money(amount - 40)), Posting.Debit(debit.Id, new Money(40)), Posting.Credit(credit.Id, new Money(amount))];
            return LedgerTransaction.Create(Guid.CreateVersion7(), $"{prefix}-{world.Suffix}-{index}", world.Club.Id, TransactionKind.FeeAccrual,
                Period.Of(SampleWorld.Now), $"Bulk {prefix} {index}", SampleWorld.Now.AddMinutes(index), SampleWorld.Now, postings);
        })];
}

public sealed class SqliteLedgerInsertsTests(SqliteDatabaseFixture fixture)
    : LedgerInsertsTests(fixture), IClassFixture<SqliteDatabaseFixture>;

public sealed class PostgresLedgerInsertsTests(PostgresDatabaseFixture fixture)
    : LedgerInsertsTests(fixture), IClassFixture<PostgresDatabaseFixture>;

/// <summary>
/// How the entries are cut into statements, which SQL Server depends on (it checks a transaction's balance at the end
/// of each INSERT statement, so the entries of one transaction must never be split).
/// </summary>
public sealed class LedgerEntryStatementTests
{
    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    [InlineData(StorageProvider.SqlServer)]
    public void OneStatementOfEntries_HoldsTheLargestTransaction_OnEveryProvider(StorageProvider provider)
    {
        using var context = OfflineContext.Create(provider);
        var entriesPerStatement = BulkInsert.RowsPerStatement<LedgerEntry>(context);

        Assert.True(entriesPerStatement >= Limits.MaxEntriesPerTransaction,
            $"{provider}: {entriesPerStatement} entries per statement, a transaction may have {Limits.MaxEntriesPerTransaction}");
    }

    [Fact]
    public void EntryStatements_HoldWholeTransactionsOnly_AllEntriesInOrder_WithinTheRowLimit()
    {
        var world = new SampleWorld();
        var (debit, credit) = world.FeeAccounts();
        var transactions = LedgerInsertsTests.Transactions(world, debit, credit, "cut", 101);
        const int rowsPerStatement = 51;

        var statements = LedgerInserts.EntryStatements(transactions, rowsPerStatement).ToList();

        Assert.All(statements, statement => Assert.InRange(statement.Count, 1, rowsPerStatement));
        Assert.All(statements, statement => Assert.All(statement.GroupBy(entry => entry.TransactionId),
            group => Assert.Equal(transactions.Single(transaction => transaction.Id == group.Key).Entries.Count, group.Count())));
        Assert.Equal(transactions.SelectMany(transaction => transaction.Entries), statements.SelectMany(statement => statement));
        // Cut only where needed: no two neighbouring statements could have been one.
        Assert.All(statements.Zip(statements.Skip(1)), pair =>
            Assert.True(pair.First.Count + transactions.Single(transaction => transaction.Id == pair.Second[0].TransactionId).Entries.Count > rowsPerStatement));
    }
}

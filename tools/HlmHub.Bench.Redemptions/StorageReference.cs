using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using HlmHub.Bench;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Bench.Redemptions;

/// <summary>
/// The storage references of the redemption benchmark, on a database of their own migrated by the hub's own migrator
/// (same schema, triggers and ledger guards as the hub's): for each redemption, the rows an accepted, uncapped,
/// not co-funded redemption writes — its Redemptions row, its LedgerTransactions row and two LedgerEntries rows (the
/// guards add their seal and proof rows) — with prepared statements and no reads. The ceiling: many redemptions per
/// database transaction and the rows of several redemptions per statement (multi-row inserts, as the hub writes
/// them). A naive integration: one transaction per redemption, one row per statement. SQLite is opened as the hub
/// opens it (the same connection string) with foreign keys on, as EF Core turns them on for the hub (the ledger's
/// balance guard is a deferred foreign key).
/// </summary>
internal sealed class StorageReference
{
    private readonly BenchDatabase _database;
    private readonly string _clubId;
    private readonly string _partnerId;
    private readonly string _offerId;
    private readonly IReadOnlyList<(Guid Id, string Token)> _households;
    private readonly string _debitAccount;
    private readonly string _creditAccount;
    private long _sequence;

    private StorageReference(BenchDatabase database, string clubId, string partnerId, string offerId, IReadOnlyList<(Guid, string)> households)
    {
        _database = database;
        _clubId = clubId;
        _partnerId = partnerId;
        _offerId = offerId;
        _households = households;
        _debitAccount = LedgerAccount.IdFor(clubId, AccountKind.DiscountsGranted, partnerId);
        _creditAccount = LedgerAccount.IdFor(clubId, AccountKind.TenantSavings);
    }

    /// <summary>Migrates <paramref name="database"/> with the hub's migrator and adds a club, a partner, its offer, households and the ledger accounts.</summary>
    public static async Task<StorageReference> CreateAsync(BenchDatabase database, int households, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(database.HubSettings).Build();
        var services = new ServiceCollection().AddHlmHubStorage(configuration).AddSingleton(TimeProvider.System).AddLogging();
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IDatabaseMigrator>().MigrateAsync(cancellationToken);
        var now = TimeProvider.System.GetUtcNow();
        var landlord = Landlord.Create("bailleur-ref", "Office Public de l'Habitat", "732829320", now);
        var club = Club.Create("club-ref", "Club des locataires", landlord.Id, ClubKind.TenantClub, null, now);
        var partner = Partner.Create("boulangerie-ref", "Boulangerie", PartnerKind.Merchant, null, "73282932000074", true, now);
        var contract = Contract.Create("contrat-ref", club, partner, null, new DateOnly(2026, 1, 1), null, [], now);
        var (offer, version) = Offer.Create("offre-ref", contract, "Remise sur le pain", new OfferTerms { Kind = OfferKind.PercentDiscount, PercentBasisPoints = 1_000, ValidFrom = now.AddDays(-1) }, now);
        var rows = Enumerable.Range(1, households)
            .Select(index => Household.Create(Guid.NewGuid(), landlord.Id, $"REF-{index:D7}", "mt_" + Guid.NewGuid().ToString("N"), 3, false, now))
            .ToList();
        await using (var db = await provider.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync(cancellationToken))
        {
            db.AddRange(landlord, club, partner, contract, offer, version);
            db.AddRange(rows);
            db.AddRange(RedemptionBooking.Accounts(club.Id, partner.Id));
            await db.SaveChangesAsync(cancellationToken);
        }

        return new StorageReference(database, club.Id, partner.Id, offer.Id, [.. rows.Select(row => (row.Id, row.MemberToken))]);
    }

    /// <summary>
    /// Inserts <paramref name="redemptions"/> redemptions, <paramref name="perTransaction"/> per database transaction,
    /// <paramref name="perStatement"/> per statement (each statement of a table carries the rows of that many
    /// redemptions: 1 is one row per statement); returns the elapsed time.
    /// </summary>
    public async Task<TimeSpan> RunAsync(int redemptions, int perTransaction, int perStatement, CancellationToken cancellationToken)
    {
        await using var connection = _database.OpenReferenceConnection();
        await connection.OpenAsync(cancellationToken);
        // SQLite, in process, has no round trip to save: each statement is prepared once (one per group size) and
        // keeps its compiled program. A server database gets the statements of up to BatchRedemptions redemptions in
        // one round trip (as EF Core batches a SaveChanges), the server preparing them once (Max Auto Prepare).
        var prepared = new Dictionary<(int Table, int Rows), DbCommand>();
        var clock = Stopwatch.StartNew();
        for (var done = 0; done < redemptions;)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var end = Math.Min(redemptions, done + perTransaction);
            while (done < end)
            {
                var statements = new List<(int Table, int Rows, string Sql, object[] Values)>();
                for (var stop = connection.CanCreateBatch ? Math.Min(end, done + BatchRedemptions) : end; done < stop;)
                {
                    var group = Math.Min(perStatement, stop - done);
                    statements.AddRange(NextStatements(group));
                    done += group;
                }

                if (connection.CanCreateBatch)
                {
                    await using var batch = connection.CreateBatch();
                    batch.Transaction = transaction;
                    foreach (var statement in statements)
                    {
                        var command = batch.CreateBatchCommand();
                        command.CommandText = statement.Sql;
                        for (var index = 0; index < statement.Values.Length; index++)
                        {
                            var parameter = command.CreateParameter();
                            parameter.ParameterName = "@p" + index;
                            parameter.Value = statement.Values[index];
                            command.Parameters.Add(parameter);
                        }

                        batch.BatchCommands.Add(command);
                    }

                    await batch.ExecuteNonQueryAsync(cancellationToken);
                    continue;
                }

                foreach (var statement in statements)
                {
                    if (!prepared.TryGetValue((statement.Table, statement.Rows), out var command))
                    {
                        command = connection.CreateCommand();
                        command.CommandText = statement.Sql;
                        for (var index = 0; index < statement.Values.Length; index++)
                        {
                            var parameter = command.CreateParameter();
                            parameter.ParameterName = "@p" + index;
                            command.Parameters.Add(parameter);
                        }

                        prepared[(statement.Table, statement.Rows)] = command;
                    }

                    command.Transaction = transaction;
                    for (var index = 0; index < statement.Values.Length; index++)
                    {
                        command.Parameters[index].Value = statement.Values[index];
                    }

                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            await transaction.CommitAsync(cancellationToken);
        }

        var elapsed = clock.Elapsed;
        foreach (var command in prepared.Values)
        {
            await command.DisposeAsync();
        }

        return elapsed;
    }

    private const int BatchRedemptions = 64;

    // Columns the statements set from parameters; the others are literals (the same for every row).
    private const string RedemptionColumns = "\"Id\", \"PartnerId\", \"PartnerEventId\", \"Kind\", \"ClubId\", \"OfferId\", \"OfferVersion\", \"MemberToken\", \"HouseholdId\", " +
        "\"OccurredAt\", \"ReceivedAt\", \"Period\", \"PurchaseAmount\", \"ClaimedDiscount\", \"ComputedDiscount\", \"Outcome\", \"RejectionReason\", \"CancelsRedemptionId\"";

    private const string RedemptionRow = "({0}, {1}, {2}, 'Redemption', {3}, {4}, 1, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, 'Accepted', NULL, NULL)";

    private const string TransactionColumns = "\"Id\", \"IdempotencyKey\", \"ClubId\", \"Kind\", \"Period\", \"Description\", \"OccurredAt\", \"RecordedAt\", \"ReversesTransactionId\"";

    private const string TransactionRow = "({0}, {1}, {2}, 'Redemption', {3}, {4}, {5}, {6}, NULL)";

    private const string EntryColumns = "\"TransactionId\", \"Line\", \"AccountId\", \"Side\", \"Amount\"";

    private const string EntryRow = "({0}, {1}, {2}, {3}, {4})";

    /// <summary>
    /// The rows of the next <paramref name="count"/> redemptions as three statements, in the order they are inserted:
    /// their Redemptions rows, their LedgerTransactions rows, their LedgerEntries rows (two each).
    /// </summary>
    private (int Table, int Rows, string Sql, object[] Values)[] NextStatements(int count)
    {
        var redemptions = new List<object>();
        var transactions = new List<object>();
        var entries = new List<object>();
        for (var index = 0; index < count; index++)
        {
            var sequence = Interlocked.Increment(ref _sequence);
            var (householdId, token) = _households[(int)(sequence % _households.Count)];
            var now = TimeProvider.System.GetUtcNow();
            var milliseconds = now.ToUnixTimeMilliseconds();
            var period = Period.Of(now).Key;
            var purchase = 1_000 + (sequence % 5_000);
            var discount = purchase / 10;
            var redemptionId = Guid.CreateVersion7();
            var transactionId = _database.Id(Guid.CreateVersion7());
            var eventId = "ref-" + sequence;
            redemptions.AddRange([_database.Id(redemptionId), _partnerId, eventId, _clubId, _offerId, token, _database.Id(householdId), milliseconds, milliseconds, period, purchase, discount, discount]);
            transactions.AddRange([transactionId, IdempotencyKeys.Redemption(redemptionId), _clubId, period, $"Redemption {eventId} of {_offerId} by {_partnerId}", milliseconds, milliseconds]);
            entries.AddRange([transactionId, 1, _debitAccount, "Debit", discount]);
            entries.AddRange([transactionId, 2, _creditAccount, "Credit", discount]);
        }

        return
        [
            (0, count, Insert("Redemptions", RedemptionColumns, RedemptionRow, 13, count), [.. redemptions]),
            (1, count, Insert("LedgerTransactions", TransactionColumns, TransactionRow, 7, count), [.. transactions]),
            (2, count, Insert("LedgerEntries", EntryColumns, EntryRow, 5, 2 * count), [.. entries]),
        ];
    }

    /// <summary>INSERT INTO table (columns) VALUES (row), (row)… with positional parameters @p0, @p1…</summary>
    private static string Insert(string table, string columns, string row, int parametersPerRow, int rows) =>
        SqlTexts.GetOrAdd((table, rows), _ => $"INSERT INTO \"{table}\" ({columns}) VALUES " + string.Join(", ", Enumerable.Range(0, rows).Select(index =>
            string.Format(CultureInfo.InvariantCulture, row, [.. Enumerable.Range(index * parametersPerRow, parametersPerRow).Select(parameter => (object)("@p" + parameter))]))));

    private static readonly ConcurrentDictionary<(string Table, int Rows), string> SqlTexts = new();
}

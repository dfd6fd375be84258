using System.Data.Common;
using System.Diagnostics;
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
/// guards add their seal and proof rows) — with prepared commands and no reads. Batched, <c>batchSize</c>
/// redemptions per database transaction: the ceiling. One transaction per redemption: a naive integration.
/// SQLite is opened as the hub opens it (the same connection string) with foreign keys on, as EF Core turns them on
/// for the hub (the ledger's balance guard is a deferred foreign key).
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

    /// <summary>Inserts <paramref name="redemptions"/> redemptions, <paramref name="perTransaction"/> per database transaction; returns the elapsed time.</summary>
    public async Task<TimeSpan> RunAsync(int redemptions, int perTransaction, CancellationToken cancellationToken)
    {
        await using var connection = _database.OpenReferenceConnection();
        await connection.OpenAsync(cancellationToken);
        var commands = new[] { (InsertRedemptionSql, RedemptionParameters), (InsertTransactionSql, TransactionParameters), (InsertEntrySql, EntryParameters), (InsertEntrySql, EntryParameters) }
            .Select(command => Prepare(connection, command.Item1, command.Item2))
            .ToArray();
        var clock = Stopwatch.StartNew();
        for (var done = 0; done < redemptions;)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var end = Math.Min(redemptions, done + perTransaction);
            if (connection.CanCreateBatch)
            {
                // A server database: the statements of up to BatchRedemptions redemptions go in one round trip (as EF
                // Core batches a SaveChanges), the server preparing them once (Max Auto Prepare).
                while (done < end)
                {
                    await using var batch = connection.CreateBatch();
                    batch.Transaction = transaction;
                    for (var stop = Math.Min(end, done + BatchRedemptions); done < stop; done++)
                    {
                        foreach (var values in NextRows())
                        {
                            var command = batch.CreateBatchCommand();
                            command.CommandText = values.Sql;
                            foreach (var (name, value) in values.Parameters)
                            {
                                var parameter = command.CreateParameter();
                                parameter.ParameterName = name;
                                parameter.Value = value;
                                command.Parameters.Add(parameter);
                            }

                            batch.BatchCommands.Add(command);
                        }
                    }

                    await batch.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            else
            {
                // SQLite, in process: no round trip to save; the commands keep their compiled statements.
                foreach (var command in commands)
                {
                    command.Transaction = transaction;
                }

                for (; done < end; done++)
                {
                    var rows = NextRows();
                    for (var index = 0; index < rows.Length; index++)
                    {
                        for (var parameter = 0; parameter < rows[index].Parameters.Length; parameter++)
                        {
                            commands[index].Parameters[parameter].Value = rows[index].Parameters[parameter].Value;
                        }

                        await commands[index].ExecuteNonQueryAsync(cancellationToken);
                    }
                }
            }

            await transaction.CommitAsync(cancellationToken);
        }

        foreach (var command in commands)
        {
            await command.DisposeAsync();
        }

        return clock.Elapsed;
    }

    private const int BatchRedemptions = 64;

    private const string InsertRedemptionSql =
        "INSERT INTO \"Redemptions\" (\"Id\", \"PartnerId\", \"PartnerEventId\", \"Kind\", \"ClubId\", \"OfferId\", \"OfferVersion\", \"MemberToken\", \"HouseholdId\", " +
        "\"OccurredAt\", \"ReceivedAt\", \"Period\", \"PurchaseAmount\", \"ClaimedDiscount\", \"ComputedDiscount\", \"Outcome\", \"RejectionReason\", \"CancelsRedemptionId\") " +
        "VALUES (@id, @partner, @event, 'Redemption', @club, @offer, 1, @token, @household, @occurred, @received, @period, @purchase, @claimed, @computed, 'Accepted', NULL, NULL)";

    private const string InsertTransactionSql =
        "INSERT INTO \"LedgerTransactions\" (\"Id\", \"IdempotencyKey\", \"ClubId\", \"Kind\", \"Period\", \"Description\", \"OccurredAt\", \"RecordedAt\", \"ReversesTransactionId\") " +
        "VALUES (@id, @key, @club, 'Redemption', @period, @description, @occurred, @recorded, NULL)";

    private const string InsertEntrySql =
        "INSERT INTO \"LedgerEntries\" (\"TransactionId\", \"Line\", \"AccountId\", \"Side\", \"Amount\") VALUES (@transaction, @line, @account, @side, @amount)";

    private static readonly string[] RedemptionParameters = ["@id", "@partner", "@event", "@club", "@offer", "@token", "@household", "@occurred", "@received", "@period", "@purchase", "@claimed", "@computed"];

    private static readonly string[] TransactionParameters = ["@id", "@key", "@club", "@period", "@description", "@occurred", "@recorded"];

    private static readonly string[] EntryParameters = ["@transaction", "@line", "@account", "@side", "@amount"];

    /// <summary>The four rows of the next redemption, as (SQL, parameters) in the order they are inserted.</summary>
    private (string Sql, (string Name, object Value)[] Parameters)[] NextRows()
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
        return
        [
            (InsertRedemptionSql, Named(RedemptionParameters, _database.Id(redemptionId), _partnerId, eventId, _clubId, _offerId, token, _database.Id(householdId), milliseconds, milliseconds, period, purchase, discount, discount)),
            (InsertTransactionSql, Named(TransactionParameters, transactionId, IdempotencyKeys.Redemption(redemptionId), _clubId, period, $"Redemption {eventId} of {_offerId} by {_partnerId}", milliseconds, milliseconds)),
            (InsertEntrySql, Named(EntryParameters, transactionId, 1, _debitAccount, "Debit", discount)),
            (InsertEntrySql, Named(EntryParameters, transactionId, 2, _creditAccount, "Credit", discount)),
        ];
    }

    private static (string Name, object Value)[] Named(string[] names, params object[] values) =>
        [.. names.Select((name, index) => (name, values[index]))];

    private static DbCommand Prepare(DbConnection connection, string sql, string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}

using System.Runtime.CompilerServices;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Storage.Tests;

/// <summary>
/// The business tables on a real database, written through EF Core: values survive the round trip, and the unique
/// indexes and triggers refuse what the domain check would, when it is bypassed (two writers racing, a bug). The
/// ledger's rules against raw SQL that bypasses EF Core entirely are proven in <see cref="LedgerGuardSqlTests"/>.
/// </summary>
public abstract class DomainStorageTests(MigratedDatabaseFixture fixture)
{
    [SkippableFact]
    public async Task EveryEntity_RoundTripsWithItsValues()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        var neighbour = Landlord.Create("voisin-" + data.Suffix, "Voisin Habitat", SampleWorld.Siren(), SampleWorld.Now);
        var agreement = FederationAgreement.Propose(Guid.NewGuid(), data.Club, neighbour.Id, data.Landlord.Id, SampleWorld.Now);
        var insurer = Partner.Create("assureur-" + data.Suffix, "Assureur", PartnerKind.Insurer, null, SampleWorld.Siret(), false, SampleWorld.Now);
        var insurerContract = Contract.Create(
            "contrat-assureur-" + data.Suffix, data.Club, insurer, null, new DateOnly(2026, 1, 1), new DateOnly(2026, 12, 31), [], SampleWorld.Now);
        var (insurance, insuranceVersion) = Offer.Create("habitation-" + data.Suffix, insurerContract, "Assurance habitation", new OfferTerms
        {
            Kind = OfferKind.RoomTariff,
            RoomTariffs = [new RoomTariff(3, Money.FromEuros(130), Money.FromEuros(280)), new RoomTariff(1, new Money(9_050), Money.FromEuros(210))],
            ValidFrom = SampleWorld.Now.AddDays(-1),
            ValidUntil = SampleWorld.Now.AddYears(1),
            CapAmountPerPeriod = Money.FromEuros(500),
        }, SampleWorld.Now);
        var redemption = data.AcceptedRedemption("evt-1");
        var statement = Statement.Submit(
            Guid.NewGuid(), data.Bakery.Id, data.Club.Id, new Period(2026, 11), 1,
            [(data.Offer.Id, 1, new Money(2_500), new Money(250))], ["evt-1"], SampleWorld.Now);
        var (receivable, revenue) = data.FeeAccounts();
        var transaction = data.FeeAccrual(IdempotencyKeys.FeeAccrual(data.BakeryContract.Id, new Period(2026, 11)));

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            context.AddRange(neighbour, agreement, insurer, insurerContract, insurance, insuranceVersion, redemption, statement, receivable, revenue, transaction);
            context.Add(Membership.Join(data.Club, data.Household, landlordFederated: false, SampleWorld.Now));
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var storedVersion = await context.OfferVersions.SingleAsync(version => version.OfferId == insurance.Id, cancellationToken);
            Assert.Equal(insuranceVersion.Terms with { RoomTariffs = [] }, storedVersion.Terms with { RoomTariffs = [] });
            Assert.Equal(insuranceVersion.RoomTariffs, storedVersion.RoomTariffs);
            Assert.Equal(Money.FromEuros(150), storedVersion.RoomTariffs.Single(tariff => tariff.Rooms == 3).Saving);

            var storedContract = await context.Contracts.SingleAsync(contract => contract.Id == insurerContract.Id, cancellationToken);
            Assert.Equal(new DateOnly(2026, 12, 31), storedContract.EndDate);
            Assert.Equal(Money.FromEuros(100), storedContract.YearlyFee);

            // Periods and instants are compared in SQL on both providers.
            var novemberRedemptions = await context.Redemptions
                .Where(item => item.ClubId == data.Club.Id && item.Period == new Period(2026, 11)
                    && item.OccurredAt >= new Period(2026, 11).StartUtc && item.OccurredAt < new Period(2026, 11).EndUtc)
                .ToListAsync(cancellationToken);
            var stored = Assert.Single(novemberRedemptions);
            Assert.Equal(RedemptionOutcome.Accepted, stored.Outcome);
            Assert.Equal(new Money(250), stored.ComputedDiscount);
            Assert.Equal(SampleWorld.Now, stored.OccurredAt);

            var discountTotal = await context.Redemptions
                .Where(item => item.ClubId == data.Club.Id)
                .SumAsync(item => StorageFunctions.Cents(item.ComputedDiscount), cancellationToken);
            Assert.Equal(250, discountTotal);

            var storedStatement = await context.Statements.Include(item => item.Lines).Include(item => item.Events)
                .SingleAsync(item => item.Id == statement.Id, cancellationToken);
            Assert.Equal(new Money(250), Assert.Single(storedStatement.Lines).DiscountTotal);
            Assert.Equal("evt-1", Assert.Single(storedStatement.Events).PartnerEventId);

            var storedTransaction = await context.LedgerTransactions.Include(item => item.Entries)
                .SingleAsync(item => item.Id == transaction.Id, cancellationToken);
            Assert.Equal(2, storedTransaction.Entries.Count);
            Assert.True(LedgerRules.IsBalanced(storedTransaction.Entries.Select(entry => (entry.Side, entry.Amount))));

            var storedAgreement = await context.FederationAgreements.SingleAsync(item => item.Id == agreement.Id, cancellationToken);
            Assert.Equal(FederationStatus.Proposed, storedAgreement.Status);
            Assert.True(await context.Memberships.AnyAsync(item => item.HouseholdId == data.Household.Id && item.LeftAt == null, cancellationToken));
        }
    }

    [SkippableFact]
    public async Task SecondActivePlumberInAClub_IsRefusedByTheDatabaseEvenWithoutTheDomainCheck()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        var first = data.Plumber("plomberie-dupont");
        var second = data.Plumber("plomberie-martin");
        var firstContract = Contract.Create("c1-" + data.Suffix, data.Club, first, null, new DateOnly(2026, 1, 1), null, [], SampleWorld.Now);
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            context.AddRange(first, second, firstContract);
            await context.SaveChangesAsync(cancellationToken);
        }

        // The domain is given no existing contracts, as a racing writer would see.
        var secondContract = Contract.Create("c2-" + data.Suffix, data.Club, second, null, new DateOnly(2026, 2, 1), null, [], SampleWorld.Now);
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            context.Add(secondContract);
            var error = await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(cancellationToken));
            AssertUniqueViolation(error, IndexNames.OneActiveBuildingTradePerClub);
        }

        // Once the first plumber's contract has ended, the trade is free again.
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var stored = await context.Contracts.SingleAsync(contract => contract.Id == firstContract.Id, cancellationToken);
            stored.End(new DateOnly(2026, 1, 31), SampleWorld.Now);
            context.Add(Contract.Create("c3-" + data.Suffix, data.Club, second, null, new DateOnly(2026, 2, 1), null, [], SampleWorld.Now));
            await context.SaveChangesAsync(cancellationToken);
        }
    }

    [SkippableFact]
    public async Task SameIdempotencyKeyTwice_IsRefusedByTheDatabase()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        var key = IdempotencyKeys.FeeAccrual(data.BakeryContract.Id, new Period(2026, 11));
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            var (receivable, revenue) = data.FeeAccounts();
            context.AddRange(receivable, revenue, data.FeeAccrual(key));
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            context.Add(data.FeeAccrual(key));
            var error = await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(cancellationToken));
            AssertUniqueViolation(error, IndexNames.OneLedgerTransactionPerIdempotencyKey);
        }
    }

    [SkippableFact]
    public async Task LedgerRows_CannotBeUpdatedOrDeletedEvenWithRawStatements()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        var transaction = data.FeeAccrual("fee:" + data.Suffix);
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            var (receivable, revenue) = data.FeeAccounts();
            context.AddRange(receivable, revenue, transaction);
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var entries = context.LedgerEntries.Where(entry => entry.TransactionId == transaction.Id);
            var transactions = context.LedgerTransactions.Where(item => item.Id == transaction.Id);
            await AssertAppendOnly(() => entries.ExecuteUpdateAsync(set => set.SetProperty(entry => entry.Amount, new Money(1)), cancellationToken));
            await AssertAppendOnly(() => entries.ExecuteDeleteAsync(cancellationToken));
            await AssertAppendOnly(() => transactions.ExecuteUpdateAsync(set => set.SetProperty(item => item.Description, "edited"), cancellationToken));
            await AssertAppendOnly(() => transactions.ExecuteDeleteAsync(cancellationToken));
            Assert.Equal(2, await entries.CountAsync(cancellationToken));
            Assert.Equal(Money.FromEuros(100), (await entries.FirstAsync(cancellationToken)).Amount);
        }
    }

    [SkippableFact]
    public async Task LedgerChangesThroughTheContext_AreRefusedBeforeReachingTheDatabase()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        var transaction = data.FeeAccrual("fee:" + data.Suffix);
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            var (receivable, revenue) = data.FeeAccounts();
            context.AddRange(receivable, revenue, transaction);
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var entry = await context.LedgerEntries.FirstAsync(item => item.TransactionId == transaction.Id, cancellationToken);
            context.Entry(entry).Property(item => item.Amount).CurrentValue = Money.FromEuros(99);
            await Assert.ThrowsAsync<LedgerIntegrityException>(() => context.SaveChangesAsync(cancellationToken));
        }

        // An extra entry slipped into an existing transaction would unbalance it.
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var stray = (LedgerEntry)RuntimeHelpers.GetUninitializedObject(typeof(LedgerEntry));
            var tracked = context.Entry(stray);
            tracked.Property(item => item.TransactionId).CurrentValue = transaction.Id;
            tracked.Property(item => item.Line).CurrentValue = 3;
            tracked.Property(item => item.AccountId).CurrentValue = LedgerAccount.IdFor(data.Club.Id, AccountKind.FeeRevenue);
            tracked.Property(item => item.Side).CurrentValue = EntrySide.Credit;
            tracked.Property(item => item.Amount).CurrentValue = Money.FromEuros(5);
            tracked.State = EntityState.Added;
            var error = await Assert.ThrowsAsync<LedgerIntegrityException>(() => context.SaveChangesAsync(cancellationToken));
            Assert.Contains("new transaction", error.Message, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task SamePartnerEventTwice_IsRefusedByTheDatabase()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            context.Add(data.AcceptedRedemption("evt-42"));
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            context.Add(data.AcceptedRedemption("evt-42"));
            var error = await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(cancellationToken));
            AssertUniqueViolation(error, IndexNames.OneRedemptionPerPartnerEvent);
        }
    }

    [SkippableFact]
    public async Task RedeemedOfferVersion_CannotBeEditedOrDeleted_WhileAnUnredeemedOneCan()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var version = context.OfferVersions.Where(item => item.OfferId == data.Offer.Id && item.Version == 1);
            Assert.Equal(1, await version.ExecuteUpdateAsync(set => set.SetProperty(item => item.MinRooms, 1), cancellationToken));

            context.Add(data.AcceptedRedemption("evt-1"));
            await context.SaveChangesAsync(cancellationToken);

            var updateError = await Assert.ThrowsAnyAsync<Exception>(() =>
                version.ExecuteUpdateAsync(set => set.SetProperty(item => item.PercentBasisPoints, 5000), cancellationToken));
            Assert.Contains("referenced by Redemptions", updateError.Message, StringComparison.Ordinal);
            await Assert.ThrowsAnyAsync<Exception>(() => version.ExecuteDeleteAsync(cancellationToken));
            Assert.Equal(1000, (await version.SingleAsync(cancellationToken)).PercentBasisPoints);
        }
    }

    [SkippableFact]
    public async Task ClosedPeriod_CannotBeReopened()
    {
        var cancellationToken = TestTimeouts.Token();
        var data = new SampleWorld();
        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            data.AddTo(context);
            context.Add(PeriodClosure.Close(data.Club.Id, new Period(2026, 10), SampleWorld.Now));
            await context.SaveChangesAsync(cancellationToken);
        }

        await using (var context = await fixture.Database.CreateContextAsync(cancellationToken))
        {
            var closures = context.PeriodClosures.Where(closure => closure.ClubId == data.Club.Id);
            var closed = await closures.Select(closure => closure.Period).ToListAsync(cancellationToken);
            Assert.Equal(new Period(2026, 11), PeriodRules.BookingPeriod(new Period(2026, 10), closed));
            await AssertAppendOnly(() => closures.ExecuteDeleteAsync(cancellationToken));
        }
    }

    private static async Task AssertAppendOnly(Func<Task<int>> statement)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(statement);
        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
    }

    private void AssertUniqueViolation(DbUpdateException error, string indexName)
    {
        Assert.True(StorageErrors.IsUniqueViolation(error), error.ToString());
        if (fixture.Database.Provider != StorageProvider.Sqlite)
        {
            // PostgreSQL and SQL Server name the violated index; SQLite only names its columns.
            Assert.Contains(indexName, error.InnerException!.Message, StringComparison.Ordinal);
        }
    }
}

public sealed class SqliteDomainStorageTests(SqliteDatabaseFixture fixture)
    : DomainStorageTests(fixture), IClassFixture<SqliteDatabaseFixture>;

public sealed class PostgresDomainStorageTests(PostgresDatabaseFixture fixture)
    : DomainStorageTests(fixture), IClassFixture<PostgresDatabaseFixture>;

public sealed class SqlServerDomainStorageTests(SqlServerDatabaseFixture fixture)
    : DomainStorageTests(fixture), IClassFixture<SqlServerDatabaseFixture>;

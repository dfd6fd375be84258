using System.Diagnostics.Metrics;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Observability;
using HlmHub.Scheduling.Tests.Infrastructure;
using HlmHub.Server.Features.Fees;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace HlmHub.Scheduling.Tests;

/// <summary>The fee accrual and the overdue check, in-process over a real SQLite file, on a clock the test sets.</summary>
public sealed class FeeJobTests
{
    // 10:00 in Paris on 22 November 2026.
    private static readonly DateTimeOffset Today = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Accrual_BooksEachAnniversaryOnce_AndASecondRunBooksNothing()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, Today);
        var world = new FeeWorld(contracts: 2, start: new DateOnly(2024, 3, 15));
        await world.AddToAsync(jobs.Db);
        var accrual = jobs.Get<FeeAccrualService>();

        var first = await accrual.AccrueAsync(TestTimeouts.Token());
        var booked = await FeeWorld.AccrualsAsync(jobs.Db);
        var second = await accrual.AccrueAsync(TestTimeouts.Token());

        // 15 March 2024, 2025 and 2026 for each of the two contracts: six fees, each in its own month.
        Assert.Equal((6, 0), (first.Booked, first.AlreadyBooked));
        Assert.Equal(6, booked.Count);
        foreach (var contract in world.Contracts)
        {
            foreach (var year in new[] { 2024, 2025, 2026 })
            {
                Assert.Single(booked, line => line.StartsWith($"{IdempotencyKeys.FeeAccrual(contract.Id, new Period(year, 3))} {year}-03 ", StringComparison.Ordinal));
            }
        }

        Assert.Equal((0, 6), (second.Booked, second.AlreadyBooked));
        Assert.Equal(booked, await FeeWorld.AccrualsAsync(jobs.Db));
    }

    [Fact]
    public async Task Accrual_OfContractsWithoutAFee_BooksNothing_AndTheRunSucceeds()
    {
        // An association's contract at 0 EUR: a zero fee has nothing to post (a posting is never 0), so it is not due.
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, Today);
        var world = new FeeWorld(contracts: 2, start: new DateOnly(2024, 3, 15), yearlyFee: Money.FromCents(0));
        await world.AddToAsync(jobs.Db);

        var result = await jobs.Get<FeeAccrualService>().AccrueAsync(TestTimeouts.Token());

        Assert.Equal((2, 0, 0), (result.ContractsRead, result.Booked, result.AlreadyBooked));
        Assert.Empty(await FeeWorld.AccrualsAsync(jobs.Db));
    }

    [Fact]
    public async Task Accrual_OfAFeeDueInAClosedMonth_IsBookedInTheNextOpenMonth()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, Today);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2026, 3, 15));
        await world.AddToAsync(jobs.Db);
        await using (var db = await jobs.Db.CreateDbContextAsync())
        {
            // March and April are closed before the fee was booked: it goes to May, the first open month.
            db.PeriodClosures.AddRange(PeriodClosure.Close(world.ClubId, new Period(2026, 3), Today), PeriodClosure.Close(world.ClubId, new Period(2026, 4), Today));
            await db.SaveChangesAsync();
        }

        var result = await jobs.Get<FeeAccrualService>().AccrueAsync(TestTimeouts.Token());

        Assert.Equal(1, result.Booked);
        var line = Assert.Single(await FeeWorld.AccrualsAsync(jobs.Db));
        Assert.StartsWith($"{IdempotencyKeys.FeeAccrual(world.Contracts[0].Id, new Period(2026, 3))} 2026-05 ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accrual_BooksAnAnniversaryOnlyOnceItsDayHasBegunInParis()
    {
        // 22:30 UTC on 14 November is 23:30 in Paris, still the 14th; 23:30 UTC is already the 15th, the anniversary.
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, new DateTimeOffset(2026, 11, 14, 22, 30, 0, TimeSpan.Zero));
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2025, 11, 15));
        await world.AddToAsync(jobs.Db);
        var accrual = jobs.Get<FeeAccrualService>();

        Assert.Equal(1, (await accrual.AccrueAsync(TestTimeouts.Token())).Booked);
        jobs.Clock.Now = new DateTimeOffset(2026, 11, 14, 23, 30, 0, TimeSpan.Zero);
        Assert.Equal(1, (await accrual.AccrueAsync(TestTimeouts.Token())).Booked);
        Assert.Equal(2, (await FeeWorld.AccrualsAsync(jobs.Db)).Count);
    }

    [Fact]
    public async Task OverdueCheck_RecordsEachUnpaidFeePastItsPayByDayOnce_AndNotAPaidOrNotYetLateOne()
    {
        // Fees due 1 June 2025, 1 June 2026 and (second contract) 1 November 2026; today is 22 November 2026.
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, Today);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2025, 6, 1));
        await world.AddToAsync(jobs.Db);
        Contract recent;
        await using (var db = await jobs.Db.CreateDbContextAsync())
        {
            var partner = Partner.Create("recent-" + world.Sample.Suffix, "Recent", PartnerKind.Merchant, null, SampleWorld.Siret(), true, Today);
            recent = Contract.Create("recent-" + world.Sample.Suffix, world.Sample.Club, partner, null, new DateOnly(2026, 11, 1), null, [], Today);
            db.AddRange(partner, recent);
            await db.SaveChangesAsync();
        }

        await jobs.Get<FeeAccrualService>().AccrueAsync(TestTimeouts.Token());
        // The partner paid one yearly fee: it settles the oldest (June 2025), so June 2026's is the one overdue.
        await PayAsync(jobs, world.Contracts[0], "virement-1", Contract.DefaultYearlyFee);
        var overdue = jobs.Get<OverdueFeeService>();

        var first = await overdue.CheckAsync(TestTimeouts.Token());
        var second = await overdue.CheckAsync(TestTimeouts.Token());

        Assert.Equal((1, 0), (first.Recorded, first.AlreadyRecorded));
        Assert.Equal((0, 1), (second.Recorded, second.AlreadyRecorded));
        await using var check = await jobs.Db.CreateDbContextAsync();
        var recorded = Assert.Single(await check.OverdueFees.AsNoTracking().ToListAsync());
        Assert.Equal((world.Contracts[0].Id, new DateOnly(2026, 6, 1), new DateOnly(2026, 7, 1), Contract.DefaultYearlyFee),
            (recorded.ContractId, recorded.DueDate, recorded.PayBy, recorded.Outstanding));
        // November's fee is unpaid but not late until 1 December.
        Assert.DoesNotContain(await check.OverdueFees.AsNoTracking().ToListAsync(), fee => fee.ContractId == recent.Id);
    }

    [Fact]
    public async Task OverdueCheck_RecordsWhatAPartPaymentLeavesOutstanding()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, Today);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2026, 6, 1));
        await world.AddToAsync(jobs.Db);
        await jobs.Get<FeeAccrualService>().AccrueAsync(TestTimeouts.Token());
        await PayAsync(jobs, world.Contracts[0], "acompte", Money.FromEuros(40));

        Assert.Equal(1, (await jobs.Get<OverdueFeeService>().CheckAsync(TestTimeouts.Token())).Recorded);

        await using var check = await jobs.Db.CreateDbContextAsync();
        Assert.Equal(Money.FromEuros(60), Assert.Single(await check.OverdueFees.AsNoTracking().ToListAsync()).Outstanding);
    }

    [Fact]
    public async Task OverdueCheck_CountsEachFeeOnceItIsRecorded_EvenWhenALaterContractFailsTheCheck()
    {
        // Two contracts, each with its June 2026 fee unpaid since 1 July.
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, Today);
        var world = new FeeWorld(contracts: 2, start: new DateOnly(2026, 6, 1));
        await world.AddToAsync(jobs.Db);
        await jobs.Get<FeeAccrualService>().AccrueAsync(TestTimeouts.Token());
        using var counted = new MetricCollector<long>(jobs.Get<IMeterFactory>(), HubMetrics.MeterName, "hlmhub.fees.overdue");
        var overdue = jobs.Get<OverdueFeeService>();
        await using (var db = await jobs.Db.CreateDbContextAsync())
        {
            // The second contract's (c02-...) fee cannot be recorded, once: the check fails after recording the first one's.
            await db.Database.ExecuteSqlRawAsync(
                "CREATE TRIGGER refuse_second BEFORE INSERT ON OverdueFees WHEN NEW.ContractId LIKE 'c02-%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
        }

        await Assert.ThrowsAnyAsync<DbUpdateException>(() => overdue.CheckAsync(TestTimeouts.Token()));
        await using (var db = await jobs.Db.CreateDbContextAsync())
        {
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_second");
        }

        var retried = await overdue.CheckAsync(TestTimeouts.Token());

        Assert.Equal((1, 1), (retried.Recorded, retried.AlreadyRecorded));
        await using var check = await jobs.Db.CreateDbContextAsync();
        Assert.Equal(2, await check.OverdueFees.CountAsync());
        Assert.Equal(2, counted.GetMeasurementSnapshot().Sum(item => item.Value));
    }

    private static async Task PayAsync(JobServices jobs, Contract contract, string reference, Money amount)
    {
        await using var db = await jobs.Db.CreateDbContextAsync();
        var now = jobs.Clock.GetUtcNow();
        db.LedgerTransactions.Add(LedgerTransaction.Create(
            Guid.NewGuid(), IdempotencyKeys.FeePayment(contract.Id, reference), contract.ClubId, TransactionKind.FeePayment, Period.Of(now),
            "payment", now, now,
            [
                Posting.Debit(LedgerAccount.IdFor(contract.ClubId, AccountKind.Bank), amount),
                Posting.Credit(LedgerAccount.IdFor(contract.ClubId, AccountKind.FeesReceivable, contract.PartnerId), amount),
            ]));
        await db.SaveChangesAsync();
    }
}

using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Domain.Reconciliation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HlmHub.Reconciliation.Tests;

/// <summary>
/// "Same inputs, same report": what a run reads is in its fingerprint, later months do not change an earlier one's
/// report, a fee booked late still counts in its own month; recorded runs only of ended months; the savings report
/// net of cancellations. On SQLite and on PostgreSQL (the subclasses at the end).
/// </summary>
public abstract class ReconciliationInputsTests(ReconciliationDatabase database)
{
    private static readonly Period October = CraftedMonth.October;

    private static readonly Period November = October.Next();

    [Fact]
    public async Task A_contract_added_after_a_run_changes_the_fingerprint_along_with_the_fees_found()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        await month.SaveAsync(database.Contexts);
        var run = await RunAsync(month.ClubId, October);

        var florist = Partner.Create("fleuriste-" + month.World.Suffix, "Fleuriste", PartnerKind.Merchant, null, SampleWorld.Siret(), true, SampleWorld.Now);
        await using (var db = await database.Contexts.CreateDbContextAsync(TestTimeouts.Token()))
        {
            db.AddRange(florist, Contract.Create("c-fleuriste-" + month.World.Suffix, month.World.Club, florist, null, new DateOnly(2026, 10, 5), null, [], SampleWorld.Now));
            await db.SaveChangesAsync(TestTimeouts.Token());
        }

        var now = await RunAsync(month.ClubId, October, dryRun: true);

        Assert.Equal(0, run.DiscrepancyTotal);
        Assert.Equal(florist.Id, Assert.Single(Of(now, DiscrepancyKind.FeeNotAccrued)).PartnerId);
        Assert.NotEqual(run.InputsFingerprint, now.InputsFingerprint);
    }

    [Fact]
    public async Task A_contracts_new_end_date_changes_the_fingerprint()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        await month.SaveAsync(database.Contexts);
        var run = await RunAsync(month.ClubId, October);

        await using (var db = await database.Contexts.CreateDbContextAsync(TestTimeouts.Token()))
        {
            var contract = await db.Contracts.SingleAsync(item => item.Id == month.BakeryContract.Id, TestTimeouts.Token());
            contract.End(new DateOnly(2026, 12, 31), SampleWorld.Now);
            await db.SaveChangesAsync(TestTimeouts.Token());
        }

        var now = await RunAsync(month.ClubId, October, dryRun: true);

        Assert.NotEqual(run.InputsFingerprint, now.InputsFingerprint);
    }

    [Fact]
    public async Task A_cancellation_booked_in_a_later_month_leaves_the_months_duplicate_and_report_as_they_were()
    {
        var month = new CraftedMonth();
        month.Redeem(month.Bread, "d-1", CraftedMonth.Day(3), 2_000);
        var second = month.Redeem(month.Bread, "d-2", CraftedMonth.Day(3), 2_000);
        await month.SaveAsync(database.Contexts);
        var run = await RunAsync(month.ClubId, October);

        month.Cancel(second, "c-d-2", new DateTimeOffset(2026, 11, 4, 12, 0, 0, TimeSpan.Zero));
        await month.SaveAsync(database.Contexts);
        var octoberNow = await RunAsync(month.ClubId, October, dryRun: true);
        var novemberNow = await RunAsync(month.ClubId, November, dryRun: true);

        Assert.Equal("d-1", Assert.Single(Of(run, DiscrepancyKind.Duplicate)).PartnerEventId);
        Assert.True(run.SameFindingsAs(octoberNow));
        // The cancellation is November's, where it is reconciled.
        Assert.Equal(1, novemberNow.Cancellations);
    }

    [Fact]
    public async Task A_cancellation_booked_in_the_month_ends_its_duplicate()
    {
        var month = new CraftedMonth();
        month.Redeem(month.Bread, "d-1", CraftedMonth.Day(3), 2_000);
        var second = month.Redeem(month.Bread, "d-2", CraftedMonth.Day(3), 2_000);
        month.Cancel(second, "c-d-2", CraftedMonth.Day(4));
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month.ClubId, October, dryRun: true);

        Assert.Empty(Of(report, DiscrepancyKind.Duplicate));
    }

    [Fact]
    public async Task A_late_copy_of_a_purchase_booked_in_an_earlier_month_is_a_duplicate_of_the_month_it_is_booked_in()
    {
        var month = new CraftedMonth();
        // d-1 was booked in October. October was closed, then the till sent the same purchase again under a new event
        // id (d-2): it was accepted and booked in November, the next open month.
        month.Redeem(month.Bread, "d-1", CraftedMonth.Day(30), 2_000);
        month.Redeem(month.Bread, "d-2", CraftedMonth.Day(30), 2_000, bookedIn: November);
        // An October pair, both booked in October (later in the month than d-1), and a late purchase of its own: the
        // pair is October's to report, not November's.
        month.Redeem(month.Bread, "o-1", CraftedMonth.Day(31), 1_000, household: 1);
        month.Redeem(month.Bread, "o-2", CraftedMonth.Day(31), 1_000, household: 1);
        month.Redeem(month.Bread, "late-alone", CraftedMonth.Day(31), 3_000, household: 2, bookedIn: November);
        await month.SaveAsync(database.Contexts);

        var october = await RunAsync(month.ClubId, October, dryRun: true);
        var november = await RunAsync(month.ClubId, November, dryRun: true);
        var novemberAgain = await RunAsync(month.ClubId, November, dryRun: true);

        Assert.Equal("o-1", Assert.Single(Of(october, DiscrepancyKind.Duplicate)).PartnerEventId);
        var late = Assert.Single(Of(november, DiscrepancyKind.Duplicate));
        Assert.Equal((month.Bakery.Id, month.Bread.Id, "d-1", 200L, 400L, 1L, 2L),
            (late.PartnerId, late.OfferId, late.PartnerEventId, late.ExpectedCents, late.ActualCents, late.ExpectedCount, late.ActualCount));
        Assert.Contains("d-2", late.Detail, StringComparison.Ordinal);
        Assert.True(november.SameFindingsAs(novemberAgain));
    }

    [Fact]
    public async Task A_fee_booked_in_a_later_month_is_accrued_in_the_month_it_fell_due()
    {
        // The bakery's fee fell due on 1 January 2026; January was closed first, so it was booked in February.
        var month = new CraftedMonth();
        await month.SaveAsync(database.Contexts);
        var due = month.BakeryContract.StartDate;
        var january = new Period(2026, 1);
        await using (var db = await database.Contexts.CreateDbContextAsync(TestTimeouts.Token()))
        {
            db.Add(FeeBooking.Accrual(Guid.NewGuid(), month.BakeryContract, due, january.Next(), january.Next().StartUtc));
            await db.SaveChangesAsync(TestTimeouts.Token());
        }

        var report = await RunAsync(month.ClubId, january, dryRun: true);
        var fees = await database.Engine.GetFeeReportAsync(month.ClubId, january, TestTimeouts.Token());

        Assert.Empty(Of(report, DiscrepancyKind.FeeNotAccrued));
        Assert.Equal(month.BakeryContract.YearlyFee, fees.Single(line => line.ContractId == month.BakeryContract.Id).Accrued);
    }

    [Fact]
    public async Task A_recorded_run_of_a_month_not_over_is_refused_and_a_dry_run_of_it_is_not()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        await month.SaveAsync(database.Contexts);
        // 23:30 in Paris on 31 October: October is still running; 00:00 on 1 November (Paris) it is over.
        var clock = new StoppedClock(new DateTimeOffset(2026, 10, 31, 22, 30, 0, TimeSpan.Zero));
        var engine = new ReconciliationEngine(database.Contexts, Options.Create(new ReconciliationOptions()), clock, NullLogger<ReconciliationEngine>.Instance);

        var refused = await Assert.ThrowsAsync<DomainException>(() =>
            engine.RunAsync(new ReconciliationRequest(month.ClubId, October, DryRun: false, "test"), null, TestTimeouts.Token()));
        var dry = await engine.RunAsync(new ReconciliationRequest(month.ClubId, October, DryRun: true, "test"), null, TestTimeouts.Token());
        clock.Now = October.EndUtc;
        var recorded = await engine.RunAsync(new ReconciliationRequest(month.ClubId, October, DryRun: false, "test"), null, TestTimeouts.Token());

        Assert.Equal(DomainErrorKind.FailedPrecondition, refused.Kind);
        Assert.Contains("dry run", refused.Message, StringComparison.Ordinal);
        Assert.Null(dry.RunId);
        Assert.NotNull(recorded.RunId);
    }

    [Fact]
    public async Task Savings_leave_out_cancelled_redemptions_with_their_households_and_cancellations()
    {
        var month = new CraftedMonth();
        // Household 2's only redemption (b-3) is cancelled in October; household 1's (b-2) in November.
        month.CleanMonth();
        var late = month.Redeem(month.Bread, "b-4", CraftedMonth.Day(20), 5_000, household: 1);
        month.Cancel(late, "b-4-cancel", new DateTimeOffset(2026, 11, 3, 12, 0, 0, TimeSpan.Zero));
        await month.SaveAsync(database.Contexts);

        var report = await database.Engine.GetSavingsReportAsync(month.ClubId, October, November, TestTimeouts.Token());

        // Standing: b-1 (household 0, 2.00), b-2 (household 1, 3.00), l-1 (household 0, 100.00).
        Assert.Equal((2L, 3L, new Money(10_500), new Money(5_250)),
            (report.Total.Households, report.Total.Redemptions, report.Total.TotalSavings, report.Total.AveragePerHousehold));
        var octoberFigure = Assert.Single(report.ByMonth);
        Assert.Equal((October, 2L, 3L, new Money(10_500)), (octoberFigure.Period!.Value, octoberFigure.Households, octoberFigure.Redemptions, octoberFigure.TotalSavings));
    }

    [Fact]
    public async Task Savings_count_a_redemption_booked_in_a_later_month_in_the_Paris_month_it_happened()
    {
        var month = new CraftedMonth();
        // Both arrived after October was closed and were booked in November. 22:30 UTC on 31 October is 23:30 in
        // Paris, still October; 23:30 UTC is already 1 November there.
        month.Redeem(month.Bread, "late-october", new DateTimeOffset(2026, 10, 31, 22, 30, 0, TimeSpan.Zero), 2_000, household: 0, bookedIn: November);
        month.Redeem(month.Bread, "first-of-november", new DateTimeOffset(2026, 10, 31, 23, 30, 0, TimeSpan.Zero), 4_000, household: 1, bookedIn: November);
        await month.SaveAsync(database.Contexts);

        var both = await database.Engine.GetSavingsReportAsync(month.ClubId, October, November, TestTimeouts.Token());
        var octoberOnly = await database.Engine.GetSavingsReportAsync(month.ClubId, October, October, TestTimeouts.Token());

        Assert.Equal(
            [(October, 1L, 1L, new Money(200)), (November, 1L, 1L, new Money(400))],
            both.ByMonth.Select(figure => (figure.Period!.Value, figure.Households, figure.Redemptions, figure.TotalSavings)));
        Assert.Equal((1L, new Money(200)), (octoberOnly.Total.Redemptions, octoberOnly.Total.TotalSavings));
    }

    [Fact]
    public async Task A_month_whose_cancellations_outweigh_its_redemptions_reconciles_against_a_negative_statement_line()
    {
        var month = new CraftedMonth();
        month.AccrueFee(month.BakeryContract, new DateOnly(2026, 1, 1));
        month.PayFee(month.BakeryContract, "VIR-1", month.BakeryContract.YearlyFee, new DateOnly(2026, 1, 10));
        month.AccrueFee(month.SchoolContract, new DateOnly(2026, 3, 15));
        month.PayFee(month.SchoolContract, "VIR-2", month.SchoolContract.YearlyFee, new DateOnly(2026, 3, 20));
        // A 20 EUR purchase (2 EUR off) in October, cancelled in November, where nothing else happened: the
        // bakery's November is one cancellation, and its statement says so net.
        var bread = month.Redeem(month.Bread, "b-1", CraftedMonth.Day(20), 2_000);
        month.Cancel(bread, "b-1-cancel", new DateTimeOffset(2026, 11, 4, 12, 0, 0, TimeSpan.Zero));
        month.Statement(month.Bakery, 1, [(month.Bread, -1, -2_000, -200)], ["b-1-cancel"], November);
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month.ClubId, November, dryRun: true);

        Assert.Equal((0L, 1L, new Money(-200), 1L), (report.Redemptions, report.Cancellations, report.DiscountTotal, report.Statements));
        Assert.Empty(report.Discrepancies);
    }

    private Task<ReconciliationReport> RunAsync(string clubId, Period period, bool dryRun = false) =>
        database.Engine.RunAsync(new ReconciliationRequest(clubId, period, dryRun, "test"), null, TestTimeouts.Token());

    private static List<FoundDiscrepancy> Of(ReconciliationReport report, DiscrepancyKind kind) =>
        [.. report.Discrepancies.Where(item => item.Kind == kind)];

    /// <summary>A clock stopped where the test puts it.</summary>
    private sealed class StoppedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}

public sealed class SqliteReconciliationInputsTests(SqliteReconciliationDatabase database)
    : ReconciliationInputsTests(database), IClassFixture<SqliteReconciliationDatabase>;

public sealed class PostgresReconciliationInputsTests(PostgresReconciliationDatabase database)
    : ReconciliationInputsTests(database), IClassFixture<PostgresReconciliationDatabase>;

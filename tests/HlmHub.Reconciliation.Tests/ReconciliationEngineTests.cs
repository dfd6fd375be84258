using System.Diagnostics.Metrics;
using HlmHub.Domain;
using HlmHub.Domain.Reconciliation;
using HlmHub.Observability;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HlmHub.Reconciliation.Tests;

/// <summary>
/// Each discrepancy kind from a crafted month, a clean month, reruns and dry runs, Paris month boundaries: on SQLite
/// and on PostgreSQL (the subclasses at the end).
/// </summary>
public abstract class ReconciliationEngineTests(ReconciliationDatabase database)
{
    private static readonly Period October = CraftedMonth.October;

    [Fact]
    public async Task A_clean_month_yields_no_discrepancy_and_counts_what_it_read()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month, dryRun: true);

        Assert.Empty(report.Discrepancies);
        Assert.Equal(0, report.DiscrepancyTotal);
        Assert.Equal(4, report.Redemptions);
        Assert.Equal(1, report.Cancellations);
        Assert.Equal(new Money(500 + 10_000), report.DiscountTotal);
        Assert.Equal(new Money(5_000 + 150_000), report.PurchaseTotal);
        Assert.Equal(2, report.Statements);
        Assert.Null(report.RunId);
    }

    [Fact]
    public async Task Events_missing_on_either_side_are_named_when_the_statement_lists_event_ids()
    {
        var month = new CraftedMonth();
        month.Redeem(month.Bread, "b-1", CraftedMonth.Day(3), 2_000);
        month.Redeem(month.Bread, "b-2", CraftedMonth.Day(4), 2_000);
        month.Statement(month.Bakery, 1, [(month.Bread, 2, 4_000, 400)], ["b-1", "b-9"]);
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month);

        var atPartner = Assert.Single(Of(report, DiscrepancyKind.MissingAtPartner));
        Assert.Equal("b-2", atPartner.PartnerEventId);
        Assert.Equal(200, atPartner.ExpectedCents);
        var atHub = Assert.Single(Of(report, DiscrepancyKind.MissingAtHub));
        Assert.Equal("b-9", atHub.PartnerEventId);
        Assert.Equal(2, report.DiscrepancyTotal - Others(report, DiscrepancyKind.MissingAtPartner, DiscrepancyKind.MissingAtHub));
    }

    [Fact]
    public async Task An_offer_without_a_statement_line_is_missing_at_partner_and_a_different_total_is_an_amount_mismatch()
    {
        var month = new CraftedMonth();
        month.Redeem(month.Bread, "b-1", CraftedMonth.Day(3), 2_000);
        month.Redeem(month.Lessons, "l-1", CraftedMonth.Day(3), 100_000);
        month.Statement(month.Bakery, 1, [(month.Bread, 1, 2_000, 250)]);
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month);

        var mismatch = Assert.Single(Of(report, DiscrepancyKind.AmountMismatch));
        Assert.Equal((month.Bread.Id, 200L, 250L), (mismatch.OfferId!, mismatch.ExpectedCents, mismatch.ActualCents));
        var missing = Assert.Single(Of(report, DiscrepancyKind.MissingAtPartner));
        Assert.Equal((month.DrivingSchool.Id, month.Lessons.Id, 10_000L), (missing.PartnerId!, missing.OfferId!, missing.ExpectedCents));
        Assert.Contains("no statement", missing.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_latest_statement_revision_is_the_one_reconciled()
    {
        var month = new CraftedMonth();
        month.Redeem(month.Bread, "b-1", CraftedMonth.Day(3), 2_000);
        month.Statement(month.Bakery, 1, [(month.Bread, 1, 2_000, 999)]);
        month.Statement(month.Bakery, 2, [(month.Bread, 1, 2_000, 200)]);
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month);

        Assert.Empty(Of(report, DiscrepancyKind.AmountMismatch));
        Assert.Equal(1, report.Statements);
    }

    [Fact]
    public async Task The_same_purchase_accepted_under_two_event_ids_is_a_duplicate()
    {
        var month = new CraftedMonth();
        month.Redeem(month.Bread, "b-1", CraftedMonth.Day(3), 2_000);
        month.Redeem(month.Bread, "b-1-retry", CraftedMonth.Day(3), 2_000);
        month.Redeem(month.Bread, "b-2", CraftedMonth.Day(3), 2_500);
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month);

        var duplicate = Assert.Single(Of(report, DiscrepancyKind.Duplicate));
        Assert.Equal(("b-1", 2L, 400L), (duplicate.PartnerEventId!, duplicate.ActualCount, duplicate.ActualCents));
    }

    [Fact]
    public async Task A_redemption_without_its_posting_and_a_posting_without_its_redemption_are_ledger_drift()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        month.Redeem(month.Bread, "b-unbooked", CraftedMonth.Day(20), 4_000, book: false);
        await month.SaveAsync(database.Contexts);
        var plain = await RunAsync(month);
        var drift = Of(plain, DiscrepancyKind.LedgerDrift);
        Assert.Contains(drift, item => item.PartnerEventId == "b-unbooked" && item.ExpectedCents == 400 && item.ActualCents == 0);
        Assert.Contains(drift, item => item.AccountId is not null && item.ExpectedCents - item.ActualCents == 400);

        month.StrayRedemptionPosting(month.DrivingSchool, Money.FromEuros(7));
        await month.SaveAsync(database.Contexts);
        var report = await RunAsync(month);

        var stray = Of(report, DiscrepancyKind.LedgerDrift).Where(item => item.PartnerEventId is null && item.AccountId is null).ToList();
        Assert.Equal((5L, 6L), (Assert.Single(stray).ExpectedCount, stray[0].ActualCount));
        Assert.Contains(Of(report, DiscrepancyKind.LedgerDrift), item => item.PartnerId == month.DrivingSchool.Id && item.ActualCents - item.ExpectedCents == 700);
    }

    [Fact]
    public async Task A_fee_due_and_not_accrued_and_a_fee_unpaid_past_its_term_are_reported()
    {
        var month = new CraftedMonth();
        month.AccrueFee(month.BakeryContract, new DateOnly(2026, 1, 1));
        month.PayFee(month.BakeryContract, "VIR-PARTIAL", Money.FromEuros(40), new DateOnly(2026, 1, 20));
        // The driving school's fee fell due on 15 March and was never accrued.
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month);

        var notAccrued = Assert.Single(Of(report, DiscrepancyKind.FeeNotAccrued));
        Assert.Equal((month.SchoolContract.Id, 10_000L), (notAccrued.ContractId!, notAccrued.ExpectedCents));
        var overdue = Assert.Single(Of(report, DiscrepancyKind.FeeOverdue));
        Assert.Equal((month.BakeryContract.Id, 10_000L, 4_000L), (overdue.ContractId!, overdue.ExpectedCents, overdue.ActualCents));
        Assert.Contains("60.00", overdue.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_club_share_left_owing_at_the_month_end_is_an_unsettled_subsidy()
    {
        var month = new CraftedMonth();
        month.Redeem(month.Lessons, "l-1", CraftedMonth.Day(3), 100_000);
        month.Redeem(month.Lessons, "l-2", CraftedMonth.Day(4), 100_000, household: 1);
        month.SettleSubsidy(month.DrivingSchool, Money.FromEuros(50), CraftedMonth.Day(27));
        await month.SaveAsync(database.Contexts);

        var report = await RunAsync(month);

        var unsettled = Assert.Single(Of(report, DiscrepancyKind.SubsidyUnsettled));
        Assert.Equal((month.DrivingSchool.Id, 5_000L), (unsettled.PartnerId!, unsettled.ActualCents));
    }

    [Fact]
    public async Task A_settled_share_cancelled_later_is_not_unsettled_and_is_netted_against_the_next_shares()
    {
        var month = new CraftedMonth();
        var november = new Period(2026, 11);
        var lesson = month.Redeem(month.Lessons, "l-9", CraftedMonth.Day(12), 100_000);
        month.SettleSubsidy(month.DrivingSchool, Money.FromEuros(50), CraftedMonth.Day(20));
        month.Cancel(lesson, "l-9-cancelled", new DateTimeOffset(2026, 11, 5, 12, 0, 0, TimeSpan.Zero));
        await month.SaveAsync(database.Contexts);

        // The club paid 50 EUR for a lesson then cancelled: the school owes it back, which the club does not owe.
        var refundDue = await database.Engine.RunAsync(new ReconciliationRequest(month.ClubId, november, true, "test"), null, TestTimeouts.Token());
        month.Redeem(month.Lessons, "l-10", new DateTimeOffset(2026, 11, 10, 12, 0, 0, TimeSpan.Zero), 100_000);
        month.Redeem(month.Lessons, "l-11", new DateTimeOffset(2026, 11, 11, 12, 0, 0, TimeSpan.Zero), 100_000, household: 1);
        await month.SaveAsync(database.Contexts);
        var netted = await database.Engine.RunAsync(new ReconciliationRequest(month.ClubId, november, true, "test"), null, TestTimeouts.Token());

        Assert.Empty(Of(refundDue, DiscrepancyKind.SubsidyUnsettled));
        // Two shares of 50 EUR, less the 50 EUR the school owes back.
        var unsettled = Assert.Single(Of(netted, DiscrepancyKind.SubsidyUnsettled));
        Assert.Equal((month.DrivingSchool.Id, 5_000L), (unsettled.PartnerId!, unsettled.ActualCents));
    }

    [Fact]
    public async Task A_rerun_gives_the_same_report_and_is_recorded_while_a_dry_run_is_not()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        month.Redeem(month.Bread, "b-x", CraftedMonth.Day(15), 2_000, book: false);
        month.Statement(month.DrivingSchool, 2, [(month.Lessons, 2, 150_000, 10_000)]);
        await month.SaveAsync(database.Contexts);

        var dry = await RunAsync(month, dryRun: true);
        Assert.Null(await database.Engine.FindLatestRunAsync(month.ClubId, October, TestTimeouts.Token()));
        var first = await RunAsync(month);
        var second = await RunAsync(month);

        Assert.NotEqual(0, first.DiscrepancyTotal);
        Assert.True(first.SameFindingsAs(second));
        Assert.True(first.SameFindingsAs(dry));
        Assert.NotEqual(first.RunId, second.RunId);
        var latest = await database.Engine.FindLatestRunAsync(month.ClubId, October, TestTimeouts.Token());
        Assert.NotNull(latest);
        Assert.Equal(second.RunId, latest.RunId);
        Assert.True(latest.SameFindingsAs(second));
        Assert.Equal(2, await RecordedRunsAsync(month));
    }

    [Fact]
    public async Task Recording_unless_up_to_date_records_a_month_once_for_callers_at_once_and_again_once_it_changed()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        await month.SaveAsync(database.Contexts);
        var request = new ReconciliationRequest(month.ClubId, October, false, "scheduler");

        var callers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            Task.Run(() => database.Engine.RecordUnlessUpToDateAsync(request, TestTimeouts.Token()))));
        var recorded = Assert.Single(callers, report => report is not null);
        month.Redeem(month.Bread, "b-late", CraftedMonth.Day(20), 1_000);
        await month.SaveAsync(database.Contexts);
        var again = await database.Engine.RecordUnlessUpToDateAsync(request, TestTimeouts.Token());

        Assert.NotNull(again);
        Assert.NotEqual(recorded!.InputsFingerprint, again.InputsFingerprint);
        Assert.Equal(again.RunId, (await database.Engine.FindLatestRunAsync(month.ClubId, October, TestTimeouts.Token()))?.RunId);
        Assert.Equal(2, await RecordedRunsAsync(month));
    }

    [Fact]
    public async Task The_meter_counts_recorded_runs_only_and_times_each_up_to_its_commit()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        month.Redeem(month.Bread, "b-x", CraftedMonth.Day(15), 2_000, book: false);
        await month.SaveAsync(database.Contexts);
        await using var services = new ServiceCollection().AddHubMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var runs = new MetricCollector<long>(meters, HubMetrics.MeterName, "hlmhub.reconciliation.runs");
        using var durations = new MetricCollector<double>(meters, HubMetrics.MeterName, "hlmhub.reconciliation.run.duration");
        using var discrepancies = new MetricCollector<long>(meters, HubMetrics.MeterName, "hlmhub.reconciliation.discrepancies");
        var engine = new ReconciliationEngine(
            database.Contexts, Options.Create(new ReconciliationOptions()), TimeProvider.System, NullLogger<ReconciliationEngine>.Instance, services.GetRequiredService<HubMetrics>());

        // A dry run (an admin's look, the closing check) records nothing, so it counts nothing.
        var dry = await engine.RunAsync(new ReconciliationRequest(month.ClubId, October, true, "test"), null, TestTimeouts.Token());
        Assert.NotEqual(0, dry.DiscrepancyTotal);
        Assert.Empty(runs.GetMeasurementSnapshot());
        Assert.Empty(durations.GetMeasurementSnapshot());
        Assert.Empty(discrepancies.GetMeasurementSnapshot());

        var recorded = await engine.RunAsync(new ReconciliationRequest(month.ClubId, October, false, "test"), null, TestTimeouts.Token());

        var run = Assert.Single(runs.GetMeasurementSnapshot());
        Assert.Equal((1L, "success"), (run.Value, (string?)run.Tags[HubMetrics.OutcomeTag]));
        Assert.Equal(recorded.DiscrepancyTotal, discrepancies.GetMeasurementSnapshot().Sum(item => item.Value));
        // The run's own duration is its reading; the meter's also covers recording it, as a failed run's does.
        var timed = Assert.Single(durations.GetMeasurementSnapshot()).Value;
        Assert.True(timed > recorded.Duration.TotalSeconds, $"timed {timed} s, the reading alone {recorded.Duration.TotalSeconds} s");
    }

    [Fact]
    public async Task An_event_at_23_30_UTC_on_the_last_day_of_October_belongs_to_November()
    {
        var month = new CraftedMonth();
        var lateEvening = new DateTimeOffset(2026, 10, 31, 23, 30, 0, TimeSpan.Zero);
        var lastMinuteOfOctober = new DateTimeOffset(2026, 10, 31, 22, 59, 0, TimeSpan.Zero);
        month.Redeem(month.Bread, "b-oct", lastMinuteOfOctober, 1_000);
        month.Redeem(month.Bread, "b-nov", lateEvening, 2_000, household: 1);
        month.Statement(month.Bakery, 1, [(month.Bread, 1, 1_000, 100)], ["b-oct"]);
        month.Statement(month.Bakery, 1, [(month.Bread, 1, 2_000, 200)], ["b-nov"], new Period(2026, 11));
        await month.SaveAsync(database.Contexts);

        var october = await RunAsync(month);
        var november = await database.Engine.RunAsync(new ReconciliationRequest(month.ClubId, new Period(2026, 11), true, "test"), null, TestTimeouts.Token());

        Assert.Equal((1L, new Money(100)), (october.Redemptions, october.DiscountTotal));
        Assert.Equal((1L, new Money(200)), (november.Redemptions, november.DiscountTotal));
        Assert.Empty(Of(october, DiscrepancyKind.MissingAtPartner).Concat(Of(october, DiscrepancyKind.MissingAtHub)).Concat(Of(october, DiscrepancyKind.AmountMismatch)));
        Assert.Empty(Of(november, DiscrepancyKind.MissingAtPartner).Concat(Of(november, DiscrepancyKind.MissingAtHub)).Concat(Of(november, DiscrepancyKind.AmountMismatch)));
    }

    [Fact]
    public async Task Progress_goes_through_every_phase_in_order()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        await month.SaveAsync(database.Contexts);
        var seen = new List<ReconciliationProgress>();

        await database.Engine.RunAsync(new ReconciliationRequest(month.ClubId, October, true, "test"), new SynchronousProgress(seen.Add), TestTimeouts.Token());

        Assert.Equal(ReconciliationEngine.Phases, seen.Select(item => item.Phase).Distinct());
        Assert.All(seen, item => Assert.InRange(item.Done, 0, item.Total));
        Assert.Contains(seen, item => item.Phase == "redemptions" && item.Done == 5 && item.Total == 5);
    }

    [Fact]
    public async Task A_run_lets_a_writer_commit_while_it_reads_and_counts_the_month_as_it_was_when_it_began()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        await month.SaveAsync(database.Contexts);
        Task? write = null;
        var progress = new SynchronousProgress(_ =>
        {
            // At the run's first report, a redemption of the month commits from another context; the run waits for it.
            if (write is null)
            {
                month.Redeem(month.Bread, "b-during-the-run", CraftedMonth.Day(20), 1_000);
                write = Task.Run(() => month.SaveAsync(database.Contexts));
                write.Wait(TestTimeouts.Default);
            }
        });

        var during = await database.Engine.RunAsync(new ReconciliationRequest(month.ClubId, October, true, "test"), progress, TestTimeouts.Token());
        var after = await RunAsync(month, dryRun: true);

        Assert.NotNull(write);
        Assert.True(write.IsCompletedSuccessfully, write.Exception?.ToString());
        Assert.Equal(4, during.Redemptions);
        Assert.Equal(5, after.Redemptions);
    }

    [Fact]
    public async Task Past_the_bound_a_run_keeps_the_first_discrepancies_of_the_stable_order_and_counts_all()
    {
        var month = new CraftedMonth();
        month.CleanMonth();
        // The bakery's second revision: b-2 missing at the partner, b-9 missing at the hub, the discount total off.
        month.Statement(month.Bakery, 2, [(month.Bread, 2, 5_000, 400)], ["b-1", "b-3", "b-3-cancel", "b-9"]);
        await month.SaveAsync(database.Contexts);
        var bounded = new ReconciliationEngine(
            database.Contexts,
            Options.Create(new ReconciliationOptions { MaxDiscrepanciesRecorded = 2, MaxDiscrepanciesInReport = 2 }),
            TimeProvider.System,
            NullLogger<ReconciliationEngine>.Instance);
        var request = new ReconciliationRequest(month.ClubId, October, true, "test");

        var all = await database.Engine.RunAsync(request, null, TestTimeouts.Token());
        var kept = await bounded.RunAsync(request, null, TestTimeouts.Token());

        Assert.Equal(3, all.DiscrepancyTotal);
        Assert.Equal(3, kept.DiscrepancyTotal);
        Assert.Equal(all.Discrepancies.Take(2), kept.Discrepancies);
    }

    [Fact]
    public async Task An_unknown_club_is_not_found()
    {
        var error = await Assert.ThrowsAsync<DomainException>(() =>
            database.Engine.RunAsync(new ReconciliationRequest("no-such-club", October, true, "test"), null, TestTimeouts.Token()));
        Assert.Equal(DomainErrorKind.NotFound, error.Kind);
    }

    private Task<ReconciliationReport> RunAsync(CraftedMonth month, bool dryRun = false) =>
        database.Engine.RunAsync(new ReconciliationRequest(month.ClubId, October, dryRun, "test"), null, TestTimeouts.Token());

    private async Task<int> RecordedRunsAsync(CraftedMonth month)
    {
        await using var db = await database.Contexts.CreateDbContextAsync(TestTimeouts.Token());
        return await db.ReconciliationRuns.CountAsync(run => run.ClubId == month.ClubId, TestTimeouts.Token());
    }

    private static List<FoundDiscrepancy> Of(ReconciliationReport report, DiscrepancyKind kind) =>
        [.. report.Discrepancies.Where(item => item.Kind == kind)];

    private static long Others(ReconciliationReport report, params DiscrepancyKind[] kinds) =>
        report.DiscrepancyCounts.Where(pair => !kinds.Contains(pair.Key)).Sum(pair => pair.Value);

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<ReconciliationProgress> report) : IProgress<ReconciliationProgress>
    {
        public void Report(ReconciliationProgress value) => report(value);
    }
}

public sealed class SqliteReconciliationEngineTests(SqliteReconciliationDatabase database)
    : ReconciliationEngineTests(database), IClassFixture<SqliteReconciliationDatabase>;

public sealed class PostgresReconciliationEngineTests(PostgresReconciliationDatabase database)
    : ReconciliationEngineTests(database), IClassFixture<PostgresReconciliationDatabase>;

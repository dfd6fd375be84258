using System.Diagnostics.Metrics;
using HlmHub.Domain;
using HlmHub.Observability;
using HlmHub.Reconciliation;
using HlmHub.Scheduling.Tests.Infrastructure;
using HlmHub.Server.Features.Scheduling;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HlmHub.Scheduling.Tests;

/// <summary>
/// The monthly reconciliation's choice of months, in-process over a real SQLite file on a clock the test sets: every
/// ended month after the club's last closed one (and not before the club existed, nor beyond the catch-up bound)
/// without an up-to-date recorded run. The worlds' clubs were created on 22 November 2026.
/// </summary>
public sealed class MonthlyReconciliationTests
{
    // 02:00 in Paris on 3 March 2027, when the default cron fires.
    private static readonly DateTimeOffset MarchFiring = new(2027, 3, 3, 1, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset FebruaryFiring = new(2027, 2, 3, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Every_ended_month_after_the_last_closed_one_is_recorded_once_and_a_second_firing_records_nothing()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, MarchFiring);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2026, 6, 1));
        await world.AddToAsync(jobs.Db);
        await using (var db = await jobs.Db.CreateDbContextAsync())
        {
            db.PeriodClosures.Add(PeriodClosure.Close(world.ClubId, new Period(2026, 12), MarchFiring));
            await db.SaveChangesAsync();
        }

        var monthly = Monthly(jobs);
        var first = await monthly.ReconcileAsync(MarchFiring, TestTimeouts.Token());
        var second = await monthly.ReconcileAsync(MarchFiring, TestTimeouts.Token());

        Assert.Equal((2, 0, 0), (first.Recorded, first.UpToDate, first.Failed.Count));
        Assert.Equal((0, 2, 0), (second.Recorded, second.UpToDate, second.Failed.Count));
        Assert.Equal(["2027-01 scheduler", "2027-02 scheduler"], await RunsAsync(jobs, world.ClubId));
    }

    [Fact]
    public async Task A_recorded_run_whose_month_changed_since_is_recorded_again_and_an_unchanged_one_is_not()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, FebruaryFiring);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2026, 6, 1));
        await world.AddToAsync(jobs.Db);
        var monthly = Monthly(jobs);
        var first = await monthly.ReconcileAsync(FebruaryFiring, TestTimeouts.Token());

        // A partner signed in December: December's and January's fees changed, November's did not.
        await using (var db = await jobs.Db.CreateDbContextAsync())
        {
            var partner = Partner.Create("late-" + world.Sample.Suffix, "Late", PartnerKind.Merchant, null, SampleWorld.Siret(), true, SampleWorld.Now);
            db.AddRange(partner, Contract.Create("late-" + world.Sample.Suffix, world.Sample.Club, partner, null, new DateOnly(2026, 12, 10), null, [], SampleWorld.Now));
            await db.SaveChangesAsync();
        }

        var second = await monthly.ReconcileAsync(FebruaryFiring, TestTimeouts.Token());

        Assert.Equal((3, 0), (first.Recorded, first.UpToDate));
        Assert.Equal((2, 1), (second.Recorded, second.UpToDate));
        Assert.Equal(["2026-11 scheduler", "2026-12 scheduler", "2026-12 scheduler", "2027-01 scheduler", "2027-01 scheduler"], await RunsAsync(jobs, world.ClubId));
    }

    [Theory]
    [InlineData(StorageProvider.Sqlite)]
    [InlineData(StorageProvider.Postgres)]
    public async Task Two_overlapping_runs_of_one_firing_record_each_month_once(StorageProvider provider)
    {
        // A clustered node that stalls past CheckinInterval + CheckinMisfireThreshold has its firing recovered by a
        // peer while it still runs it: two runs of the same firing at once.
        await using var jobs = await JobServices.CreateAsync(provider, FebruaryFiring);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2026, 6, 1));
        await world.AddToAsync(jobs.Db);
        var monthly = Monthly(jobs);

        var both = await Task.WhenAll(
            Task.Run(() => monthly.ReconcileAsync(FebruaryFiring, TestTimeouts.Token())),
            Task.Run(() => monthly.ReconcileAsync(FebruaryFiring, TestTimeouts.Token())));

        Assert.All(both, result => Assert.Empty(result.Failed));
        Assert.Equal((3, 3), (both.Sum(result => result.Recorded), both.Sum(result => result.UpToDate)));
        Assert.Equal(["2026-11 scheduler", "2026-12 scheduler", "2027-01 scheduler"], await RunsAsync(jobs, world.ClubId));
    }

    [Fact]
    public async Task A_second_firing_over_unchanged_data_moves_no_reconciliation_counter()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, FebruaryFiring);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2026, 6, 1));
        await world.AddToAsync(jobs.Db);
        var meters = jobs.Get<IMeterFactory>();
        using var runs = new MetricCollector<long>(meters, HubMetrics.MeterName, "hlmhub.reconciliation.runs");
        using var durations = new MetricCollector<double>(meters, HubMetrics.MeterName, "hlmhub.reconciliation.run.duration");
        using var discrepancies = new MetricCollector<long>(meters, HubMetrics.MeterName, "hlmhub.reconciliation.discrepancies");
        var monthly = Monthly(jobs, metrics: jobs.Get<HubMetrics>());

        var first = await monthly.ReconcileAsync(FebruaryFiring, TestTimeouts.Token());
        var afterFirst = Counted();
        var second = await monthly.ReconcileAsync(FebruaryFiring, TestTimeouts.Token());

        // November to January recorded, each with the fee the world never accrued; then all three found up to date.
        Assert.Equal((3, 0), (first.Recorded, first.UpToDate));
        Assert.Equal((0, 3), (second.Recorded, second.UpToDate));
        Assert.NotEqual(0, first.Discrepancies);
        Assert.Equal((3L, 3, first.Discrepancies), afterFirst);
        Assert.Equal(afterFirst, Counted());

        (long Runs, int Timed, long Discrepancies) Counted() =>
            (runs.GetMeasurementSnapshot().Sum(item => item.Value), durations.GetMeasurementSnapshot().Count, discrepancies.GetMeasurementSnapshot().Sum(item => item.Value));
    }

    [Fact]
    public async Task Catching_up_goes_back_no_further_than_the_configured_number_of_months()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, MarchFiring);
        var world = new FeeWorld(contracts: 1, start: new DateOnly(2026, 6, 1));
        await world.AddToAsync(jobs.Db);

        var result = await Monthly(jobs, catchUpMonths: 2).ReconcileAsync(MarchFiring, TestTimeouts.Token());

        Assert.Equal(2, result.Recorded);
        Assert.Equal(["2027-01 scheduler", "2027-02 scheduler"], await RunsAsync(jobs, world.ClubId));
    }

    /// <summary>The service over the jobs' database and clock, with its own catch-up bound, counting on <paramref name="metrics"/> if given.</summary>
    private static MonthlyReconciliation Monthly(JobServices jobs, int catchUpMonths = 12, HubMetrics? metrics = null)
    {
        var options = Options.Create(new ReconciliationOptions { CatchUpMonths = catchUpMonths });
        var engine = new ReconciliationEngine(jobs.Db, options, jobs.Clock, NullLogger<ReconciliationEngine>.Instance, metrics);
        return new MonthlyReconciliation(engine, jobs.Db, options, NullLogger<MonthlyReconciliation>.Instance);
    }

    private static async Task<List<string>> RunsAsync(JobServices jobs, string clubId)
    {
        await using var db = await jobs.Db.CreateDbContextAsync();
        var runs = await db.ReconciliationRuns.AsNoTracking().Where(run => run.ClubId == clubId).ToListAsync();
        return [.. runs.Select(run => $"{run.Period} {run.StartedBy}").Order(StringComparer.Ordinal)];
    }
}

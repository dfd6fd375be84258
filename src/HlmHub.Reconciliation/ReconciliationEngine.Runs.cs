using HlmHub.Domain;
using HlmHub.Domain.Reconciliation;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Reconciliation;

/// <summary>Recording runs and reading them back.</summary>
public sealed partial class ReconciliationEngine
{
    /// <summary>The latest recorded run of a club's month, or null when it was never reconciled (dry runs are not recorded).</summary>
    public async Task<ReconciliationReport?> FindLatestRunAsync(string clubId, Period period, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var run = await LatestFirst(db, clubId, period).FirstOrDefaultAsync(cancellationToken);
        return run is null ? null : await ToReportAsync(db, run, cancellationToken);
    }

    /// <summary>A club's recorded runs of a month, the latest first.</summary>
    private static IQueryable<ReconciliationRun> LatestFirst(HlmHubDbContext db, string clubId, Period period) =>
        db.ReconciliationRuns.AsNoTracking()
            .Where(item => item.ClubId == clubId && item.Period == period)
            .OrderByDescending(item => item.StartedAt).ThenByDescending(item => item.Id);

    /// <summary>A recorded run by id, or null.</summary>
    public async Task<ReconciliationReport?> FindRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.ReconciliationRuns.AsNoTracking().SingleOrDefaultAsync(item => item.Id == runId, cancellationToken);
        return run is null ? null : await ToReportAsync(db, run, cancellationToken);
    }

    /// <summary>A page of a recorded run's discrepancies in the run's order, optionally of one kind.</summary>
    public async Task<IReadOnlyList<FoundDiscrepancy>> ListDiscrepanciesAsync(
        Guid runId, DiscrepancyKind? kind, int offset, int count, CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        return await db.ReconciliationDiscrepancies.AsNoTracking()
            .Where(item => item.RunId == runId && (kind == null || item.Kind == kind))
            .OrderBy(item => item.Sequence)
            .Skip(offset)
            .Take(count)
            .Select(item => new FoundDiscrepancy(
                item.Kind, item.PartnerId, item.OfferId, item.ContractId, item.PartnerEventId, item.AccountId,
                item.ExpectedCents, item.ActualCents, item.ExpectedCount, item.ActualCount, item.Detail))
            .ToListAsync(cancellationToken);
    }

    private async Task<ReconciliationReport> ToReportAsync(HlmHubDbContext db, ReconciliationRun run, CancellationToken cancellationToken)
    {
        var discrepancies = await ListDiscrepanciesAsync(run.Id, null, 0, _options.MaxDiscrepanciesInReport, cancellationToken);
        return new ReconciliationReport(
            run.Id,
            run.ClubId,
            run.Period,
            DryRun: false,
            run.StartedBy,
            run.StartedAt,
            TimeSpan.FromMilliseconds(run.DurationMilliseconds),
            run.PeriodClosed,
            run.InputsFingerprint,
            run.Redemptions,
            run.Cancellations,
            run.DiscountTotal,
            run.PurchaseTotal,
            run.Statements,
            run.LedgerTransactions,
            run.CountsPerKind(),
            run.DiscrepancyTotal,
            discrepancies,
            run.DiscrepancyTotal > discrepancies.Count);
    }

    /// <summary>
    /// Records the run; records nothing and answers false when <paramref name="unlessUpToDate"/> and the month's latest
    /// recorded run has <paramref name="fingerprint"/>.
    /// </summary>
    private async Task<bool> RecordAsync(
        Guid runId,
        ReconciliationRequest request,
        DateTimeOffset startedAt,
        TimeSpan duration,
        RunState state,
        string fingerprint,
        List<FoundDiscrepancy> ordered,
        bool unlessUpToDate,
        CancellationToken cancellationToken)
    {
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        // All or nothing: a run cut off while recording leaves no half-recorded report.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (unlessUpToDate)
        {
            // Checked and recorded under the club row's lock (RowLocks): a concurrent caller's run is committed before
            // this reads the latest, or waits for this one's commit and then finds it. Only this transaction holds the
            // lock, not the month's reading (a read snapshot that no writer waits for). A club gone meanwhile fails the
            // insert on its foreign key.
            await RowLocks.LockClubAsync(db, request.ClubId, cancellationToken);
            var latest = await LatestFirst(db, request.ClubId, request.Period).Select(run => run.InputsFingerprint).FirstOrDefaultAsync(cancellationToken);
            if (latest == fingerprint)
            {
                return false;
            }
        }

        db.ReconciliationRuns.Add(ReconciliationRun.Record(
            runId,
            request.ClubId,
            request.Period,
            request.StartedBy,
            startedAt,
            duration,
            state.PeriodClosed,
            fingerprint,
            state.Redemptions,
            state.Cancellations,
            state.DiscountTotal,
            state.PurchaseTotal,
            state.Statements,
            state.LedgerTransactions,
            state.Total,
            ordered.Count,
            state.Counts));

        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        for (var start = 0; start < ordered.Count; start += _options.BatchSize)
        {
            foreach (var (item, index) in ordered.Skip(start).Take(_options.BatchSize).Select((item, index) => (item, start + index)))
            {
                db.ReconciliationDiscrepancies.Add(ReconciliationDiscrepancy.Create(
                    runId, index + 1, item.Kind, item.PartnerId, item.OfferId, item.ContractId, item.PartnerEventId, item.AccountId,
                    item.ExpectedCents, item.ActualCents, item.ExpectedCount, item.ActualCount, item.Detail));
            }

            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}

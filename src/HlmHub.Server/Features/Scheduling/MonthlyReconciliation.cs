using HlmHub.Domain;
using HlmHub.Reconciliation;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>What one pass of the monthly reconciliation did.</summary>
internal sealed record MonthlyReconciliationResult(
    Period LastEndedMonth, int Clubs, int Recorded, int UpToDate, long Discrepancies, IReadOnlyList<string> Failed)
{
    /// <summary>One line for the job's log (event 4352), and the failure's message when a club-month failed.</summary>
    public string Summary =>
        $"months up to {LastEndedMonth}, {Clubs} club(s): {Recorded} run(s) recorded ({Discrepancies} discrepancies), {UpToDate} already up to date"
        + (Failed.Count == 0 ? "" : $", {Failed.Count} failed: {string.Join(", ", Failed)}");
}

/// <summary>
/// The monthly reconciliation's work (docs/scheduling.md): for every club, every month that has ended by the firing,
/// is not closed and is not older than the club's last closed month, the club's creation or
/// <see cref="ReconciliationOptions.CatchUpMonths"/>, and that has no up-to-date recorded run, gets a recorded run
/// started by <see cref="StartedBy"/>. A run is up to date when a run now reads the same inputs (same fingerprint):
/// a run recorded before late redemptions or statements arrived is not, so the month is reconciled again. The engine
/// compares where it records (<see cref="ReconciliationEngine.RecordUnlessUpToDateAsync"/>), so overlapping firings
/// record a month once. Missed firings and failed months are caught up by the next firing.
/// </summary>
internal sealed class MonthlyReconciliation(
    ReconciliationEngine engine,
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<ReconciliationOptions> options,
    ILogger<MonthlyReconciliation> logger)
{
    /// <summary>Who the recorded runs name as having started them.</summary>
    public const string StartedBy = "scheduler";

    /// <summary>Reconciles what has ended by <paramref name="firedAt"/> (the firing's scheduled time, not the clock's).</summary>
    public async Task<MonthlyReconciliationResult> ReconcileAsync(DateTimeOffset firedAt, CancellationToken cancellationToken)
    {
        var lastEnded = Period.Of(firedAt).Previous();
        var oldest = lastEnded;
        for (var month = 1; month < options.Value.CatchUpMonths; month++)
        {
            oldest = oldest.Previous();
        }

        List<ClubMonths> clubs;
        await using (var db = await dbContextFactory.CreateDbContextAsync(cancellationToken))
        {
            var all = await db.Clubs.AsNoTracking().Select(club => new { club.Id, club.CreatedAt }).ToListAsync(cancellationToken);
            var closures = await db.PeriodClosures.AsNoTracking().Select(closure => new { closure.ClubId, closure.Period }).ToListAsync(cancellationToken);
            var lastClosed = closures.GroupBy(closure => closure.ClubId, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Max(closure => closure.Period), StringComparer.Ordinal);
            clubs = [.. all
                .Select(club =>
                {
                    // Nothing to reconcile before the club existed, nor up to its last closed month (closed is final;
                    // months close in order, so every month after it is open and every one up to it is closed).
                    var from = Max(oldest, Period.Of(club.CreatedAt));
                    return new ClubMonths(club.Id, lastClosed.TryGetValue(club.Id, out var closed) ? Max(from, closed.Next()) : from);
                })
                .OrderBy(club => club.ClubId, StringComparer.Ordinal)];
        }

        int recorded = 0, upToDate = 0;
        long discrepancies = 0;
        var failed = new List<string>();
        foreach (var club in clubs)
        {
            for (var month = club.From; month <= lastEnded; month = month.Next())
            {
                try
                {
                    // The engine compares with the latest recorded run where it records, under a lock: a firing
                    // overlapping this one (a peer recovering it from a node that stalled) records the month once.
                    var report = await engine.RecordUnlessUpToDateAsync(new ReconciliationRequest(club.ClubId, month, DryRun: false, StartedBy), cancellationToken);
                    if (report is null)
                    {
                        upToDate++;
                        continue;
                    }

                    recorded++;
                    discrepancies += report.DiscrepancyTotal;
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // A failed run records nothing (the engine writes its run in one transaction), so a rerun starts
                    // clean; the club's other months go on, and the next firing tries this one again.
                    failed.Add($"{club.ClubId} {month}");
                    SchedulingLog.ClubReconciliationFailed(logger, exception, club.ClubId, month.ToString());
                }
            }
        }

        return new MonthlyReconciliationResult(lastEnded, clubs.Count, recorded, upToDate, discrepancies, failed);
    }

    private static Period Max(Period left, Period right) => left >= right ? left : right;

    private sealed record ClubMonths(string ClubId, Period From);
}

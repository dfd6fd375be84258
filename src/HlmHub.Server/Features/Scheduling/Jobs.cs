using HlmHub.Domain;
using HlmHub.Reconciliation;
using HlmHub.Server.Features.Fees;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>Daily: books every partner fee that has fallen due and is not booked yet (<see cref="FeeAccrualService"/>).</summary>
[DisallowConcurrentExecution]
internal sealed class FeeAccrualJob(FeeAccrualService service, ILogger<FeeAccrualJob> logger, TimeProvider timeProvider) : HubJob(logger, timeProvider)
{
    public const string JobName = "fee-accrual";

    protected override string Name => JobName;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var result = await service.AccrueAsync(cancellationToken);
        return $"{result.Booked} fee(s) booked, {result.AlreadyBooked} already booked, {result.ContractsRead} contract(s)";
    }
}

/// <summary>Daily: records each booked fee still unpaid after its pay-by day, once (<see cref="OverdueFeeService"/>).</summary>
[DisallowConcurrentExecution]
internal sealed class OverdueFeesJob(OverdueFeeService service, ILogger<OverdueFeesJob> logger, TimeProvider timeProvider) : HubJob(logger, timeProvider)
{
    public const string JobName = "overdue-fees";

    protected override string Name => JobName;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var result = await service.CheckAsync(cancellationToken);
        return $"{result.Recorded} newly overdue fee(s), {result.AlreadyRecorded} already recorded, {result.ContractsRead} contract(s)";
    }
}

/// <summary>Daily: deletes what the OAuth server no longer needs (<see cref="OAuthStorePruning"/>).</summary>
[DisallowConcurrentExecution]
internal sealed class OAuthPruningJob(OAuthStorePruning pruning, ILogger<OAuthPruningJob> logger, TimeProvider timeProvider) : HubJob(logger, timeProvider)
{
    public const string JobName = "oauth-pruning";

    protected override string Name => JobName;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var result = await pruning.PruneAsync(cancellationToken);
        return $"{result.Tokens} token(s), {result.Authorizations} authorization(s), {result.Assertions} client assertion(s) pruned";
    }
}

/// <summary>
/// Monthly: reconciles the previous month (in Paris) for every club with the reconciliation engine, as the
/// <c>scheduler</c>. A club whose month already has a recorded run (by an administrator, or by an earlier or
/// interrupted-then-recovered run of this job) is skipped, so a second run changes nothing. One club's failure does
/// not hold back the others: it is logged with the club's id, the job goes on, and fails at the end naming the clubs
/// left unreconciled (an administrator reruns them with <c>hlmhub reconcile</c>, or the next firing does).
/// </summary>
[DisallowConcurrentExecution]
internal sealed class MonthlyReconciliationJob(
    ReconciliationEngine engine,
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    ILogger<MonthlyReconciliationJob> logger,
    TimeProvider timeProvider) : HubJob(logger, timeProvider)
{
    public const string JobName = "monthly-reconciliation";

    /// <summary>Who the recorded runs name as having started them.</summary>
    public const string StartedBy = "scheduler";

    protected override string Name => JobName;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var period = Period.Of(Clock.GetUtcNow()).Previous();
        List<string> clubs;
        await using (var db = await dbContextFactory.CreateDbContextAsync(cancellationToken))
        {
            clubs = await db.Clubs.AsNoTracking().OrderBy(club => club.Id).Select(club => club.Id).ToListAsync(cancellationToken);
        }

        int reconciled = 0, skipped = 0;
        long discrepancies = 0;
        var failed = new List<string>();
        foreach (var club in clubs)
        {
            try
            {
                if (await engine.FindLatestRunAsync(club, period, cancellationToken) is not null)
                {
                    skipped++;
                    continue;
                }

                var report = await engine.RunAsync(new ReconciliationRequest(club, period, DryRun: false, StartedBy), progress: null, cancellationToken);
                reconciled++;
                discrepancies += report.DiscrepancyTotal;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A failed run records nothing (the engine writes its run in one transaction), so a rerun starts clean.
                failed.Add(club);
                SchedulingLog.ClubReconciliationFailed(logger, exception, club, period.ToString());
            }
        }

        var summary = $"{period}: {reconciled} club(s) reconciled ({discrepancies} discrepancies), {skipped} already reconciled";
        return failed.Count == 0
            ? summary
            : throw new ClubsNotReconciledException($"{summary}, {failed.Count} failed: {string.Join(", ", failed)}");
    }
}

/// <summary>The monthly reconciliation's failure: which clubs it could not reconcile (each logged with its cause).</summary>
internal sealed class ClubsNotReconciledException(string message) : Exception(message);

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
/// interrupted-then-recovered run of this job) is skipped, so a second run changes nothing.
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
        foreach (var club in clubs)
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

        return $"{period}: {reconciled} club(s) reconciled ({discrepancies} discrepancies), {skipped} already reconciled";
    }
}

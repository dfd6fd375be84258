using HlmHub.Server.Features.Fees;
using Quartz;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>Daily: books every partner fee that has fallen due and is not booked yet (<see cref="FeeAccrualService"/>).</summary>
[DisallowConcurrentExecution]
internal sealed class FeeAccrualJob(FeeAccrualService service, ILogger<FeeAccrualJob> logger, TimeProvider timeProvider) : HubJob(logger, timeProvider)
{
    public const string JobName = "fee-accrual";

    protected override string Name => JobName;

    protected override async Task<string> RunAsync(DateTimeOffset firedAt, CancellationToken cancellationToken)
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

    protected override async Task<string> RunAsync(DateTimeOffset firedAt, CancellationToken cancellationToken)
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

    protected override async Task<string> RunAsync(DateTimeOffset firedAt, CancellationToken cancellationToken)
    {
        var result = await pruning.PruneAsync(cancellationToken);
        return $"{result.Tokens} token(s), {result.Authorizations} authorization(s), {result.Assertions} client assertion(s) pruned";
    }
}

/// <summary>
/// Monthly: reconciles, for every club, each ended month that is not closed and has no up-to-date recorded run
/// (<see cref="MonthlyReconciliation"/>), as of the firing's scheduled time. One club-month's failure does not hold
/// back the others: it is logged with the club and the month, the job goes on, and fails at the end naming what was
/// left unreconciled (an administrator reruns it with <c>hlmhub reconcile</c>, or the next firing does).
/// </summary>
[DisallowConcurrentExecution]
internal sealed class MonthlyReconciliationJob(
    MonthlyReconciliation reconciliation,
    ILogger<MonthlyReconciliationJob> logger,
    TimeProvider timeProvider) : HubJob(logger, timeProvider)
{
    public const string JobName = "monthly-reconciliation";

    /// <summary>Who the recorded runs name as having started them.</summary>
    public const string StartedBy = MonthlyReconciliation.StartedBy;

    protected override string Name => JobName;

    protected override async Task<string> RunAsync(DateTimeOffset firedAt, CancellationToken cancellationToken)
    {
        var result = await reconciliation.ReconcileAsync(firedAt, cancellationToken);
        return result.Failed.Count == 0 ? result.Summary : throw new ClubsNotReconciledException(result.Summary);
    }
}

/// <summary>The monthly reconciliation's failure: which clubs it could not reconcile (each logged with its cause).</summary>
internal sealed class ClubsNotReconciledException(string message) : Exception(message);

using HlmHub.Server.Features.Fees;
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

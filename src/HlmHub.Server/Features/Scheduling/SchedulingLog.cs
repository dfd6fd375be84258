namespace HlmHub.Server.Features.Scheduling;

/// <summary>The scheduler's log messages, with fixed event ids (4350-4399): each job run says where it ran and how it ended.</summary>
internal static partial class SchedulingLog
{
    [LoggerMessage(EventId = 4351, Level = LogLevel.Information, Message = "Scheduled job {Job} started on node {InstanceId} (recovering: {Recovering}).")]
    public static partial void JobStarted(ILogger logger, string job, string instanceId, bool recovering);

    [LoggerMessage(EventId = 4352, Level = LogLevel.Information, Message = "Scheduled job {Job} finished on node {InstanceId} in {ElapsedMilliseconds} ms: {Summary}.")]
    public static partial void JobFinished(ILogger logger, string job, string instanceId, long elapsedMilliseconds, string summary);

    [LoggerMessage(EventId = 4353, Level = LogLevel.Error, Message = "Scheduled job {Job} failed on node {InstanceId}; it runs again at its next firing.")]
    public static partial void JobFailed(ILogger logger, Exception exception, string job, string instanceId);

    [LoggerMessage(EventId = 4354, Level = LogLevel.Information, Message = "Pruned the OAuth store: {Tokens} token(s), {Authorizations} authorization(s), {Assertions} used client assertion(s).")]
    public static partial void Pruned(ILogger logger, long tokens, long authorizations, int assertions);

    [LoggerMessage(EventId = 4355, Level = LogLevel.Error, Message = "The monthly reconciliation of club {ClubId} for {Period} failed; the job goes on with the other clubs. Rerun it with `hlmhub reconcile --club <club> --month <month>`.")]
    public static partial void ClubReconciliationFailed(ILogger logger, Exception exception, string clubId, string period);
}

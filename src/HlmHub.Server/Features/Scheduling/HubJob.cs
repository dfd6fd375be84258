using Quartz;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>
/// What every hub job shares: a stable key, and a log line when it starts and ends naming the node it ran on, so
/// operators (and the cluster tests) can see that a firing ran once and where. The work itself lives in a feature
/// service; a job is a thin shell around it.
/// </summary>
internal abstract class HubJob(ILogger logger, TimeProvider timeProvider) : IJob
{
    public const string Group = "hlmhub";

    /// <summary>The hub's clock.</summary>
    protected TimeProvider Clock => timeProvider;

    /// <summary>The job's name in the store (and its trigger's).</summary>
    protected abstract string Name { get; }

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var instanceId = context.Scheduler.SchedulerInstanceId;
        SchedulingLog.JobStarted(logger, Name, instanceId, context.Recovering);
        var started = timeProvider.GetTimestamp();
        try
        {
            // The firing's own time (a recovered firing keeps the original's), so a job late or rerun after a crash
            // does the work of its firing, not of whenever it happened to run.
            var summary = await RunAsync(context.ScheduledFireTimeUtc ?? timeProvider.GetUtcNow(), cancellationToken);
            SchedulingLog.JobFinished(logger, Name, instanceId, (long)timeProvider.GetElapsedTime(started).TotalMilliseconds, summary);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Logged here with the job's name; Quartz records the failure, and the next firing tries again
            // (every job is idempotent, so nothing is lost by waiting for it).
            SchedulingLog.JobFailed(logger, exception, Name, instanceId);
            throw new JobExecutionException(exception);
        }
    }

    /// <summary>Does the work of the firing scheduled at <paramref name="firedAt"/>; returns a one-line summary of what it did.</summary>
    protected abstract Task<string> RunAsync(DateTimeOffset firedAt, CancellationToken cancellationToken);
}

using Quartz;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>The scheduler's settings, bound from <c>Scheduling</c>; each default is documented in docs/scheduling.md.</summary>
internal sealed class SchedulingOptions
{
    public const string SectionName = "Scheduling";

    /// <summary>Daily at 01:30 (Paris): books the fees that fell due the day before, before anyone looks at them.</summary>
    public const string DefaultFeeAccrualCron = "0 30 1 * * ?";

    /// <summary>Daily at 06:00 (Paris): after the accrual, before staff start work.</summary>
    public const string DefaultOverdueFeesCron = "0 0 6 * * ?";

    /// <summary>Daily at 04:15 (Paris): the quietest hour for deleting rows.</summary>
    public const string DefaultPruningCron = "0 15 4 * * ?";

    /// <summary>On the 3rd of each month at 02:00 (Paris): the previous month, once late statements have had two days.</summary>
    public const string DefaultReconciliationCron = "0 0 2 3 * ?";

    /// <summary>Whether the hub runs the scheduler at all (default true). Off only for tools and benchmarks.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// This node's scheduler id (default empty: generated at start-up). Nodes of a cluster must have distinct ids;
    /// a node restarted under the same id recovers its own interrupted jobs at once.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>When the fee accrual runs (Quartz cron, Europe/Paris; default <see cref="DefaultFeeAccrualCron"/>).</summary>
    public string FeeAccrualCron { get; set; } = DefaultFeeAccrualCron;

    /// <summary>When the overdue-fee check runs (default <see cref="DefaultOverdueFeesCron"/>).</summary>
    public string OverdueFeesCron { get; set; } = DefaultOverdueFeesCron;

    /// <summary>When the OAuth store is pruned (default <see cref="DefaultPruningCron"/>).</summary>
    public string PruningCron { get; set; } = DefaultPruningCron;

    /// <summary>When the previous month is reconciled for every club (default <see cref="DefaultReconciliationCron"/>).</summary>
    public string ReconciliationCron { get; set; } = DefaultReconciliationCron;

    /// <summary>How often a clustered node records that it is alive (default 7.5 s, Quartz's own default).</summary>
    public TimeSpan CheckinInterval { get; set; } = TimeSpan.FromSeconds(7.5);

    /// <summary>
    /// How long past a missed check-in the other nodes wait before recovering a node's jobs (default 7.5 s): a
    /// crashed node's job resumes elsewhere after at most the interval plus this.
    /// </summary>
    public TimeSpan CheckinMisfireThreshold { get; set; } = TimeSpan.FromSeconds(7.5);

    /// <summary>How late a trigger may fire before it counts as misfired and its misfire policy applies (default 1 minute).</summary>
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an idle node waits before it looks at the job store again (default 30 s, Quartz's own default, at
    /// least 1 s). A trigger stored by another process (a one-off firing, a changed schedule) waits at most this long.
    /// </summary>
    public TimeSpan IdleWaitTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Jobs run at once on this node (default 2; each job itself never runs twice at once).</summary>
    public int ThreadCount { get; set; } = 2;

    /// <summary>How long expired or revoked OAuth tokens and authorizations are kept before pruning (default 14 days).</summary>
    public TimeSpan PruneAfter { get; set; } = TimeSpan.FromDays(14);

    /// <summary>The first invalid setting, or null when all are valid.</summary>
    public string? Problem()
    {
        foreach (var (name, cron) in new[]
        {
            (nameof(FeeAccrualCron), FeeAccrualCron), (nameof(OverdueFeesCron), OverdueFeesCron),
            (nameof(PruningCron), PruningCron), (nameof(ReconciliationCron), ReconciliationCron),
        })
        {
            if (string.IsNullOrWhiteSpace(cron) || !CronExpression.TryParse(cron, out _))
            {
                return $"{SectionName}:{name} must be a Quartz cron expression (seconds first), not '{cron}'.";
            }
        }

        if (CheckinInterval <= TimeSpan.Zero || CheckinMisfireThreshold <= TimeSpan.Zero || MisfireThreshold <= TimeSpan.Zero || PruneAfter <= TimeSpan.Zero)
        {
            return $"{SectionName}:CheckinInterval, CheckinMisfireThreshold, MisfireThreshold and PruneAfter must be positive.";
        }

        if (IdleWaitTime < TimeSpan.FromSeconds(1))
        {
            return $"{SectionName}:IdleWaitTime must be at least 1 second, not {IdleWaitTime}.";
        }

        if (ThreadCount is < 1 or > 16)
        {
            return $"{SectionName}:ThreadCount must be 1 to 16, not {ThreadCount}.";
        }

        return InstanceId is { Length: > 100 } ? $"{SectionName}:InstanceId must be at most 100 characters." : null;
    }
}

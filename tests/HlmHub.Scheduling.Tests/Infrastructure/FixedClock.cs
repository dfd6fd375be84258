namespace HlmHub.Scheduling.Tests.Infrastructure;

/// <summary>A clock stopped at one instant, which a test moves: the jobs' "today" is whatever the test says.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

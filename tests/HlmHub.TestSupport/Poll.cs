namespace HlmHub.TestSupport;

/// <summary>
/// Waiting for what a test cannot be told of (a log line, a database row, a cluster check-in): the condition is
/// checked again and again until it holds, and the wait fails after a time limit instead of hanging the run.
/// </summary>
public static class Poll
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Returns once <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> saying "Waited ... in
    /// vain <paramref name="what"/>" ("for ...") and <paramref name="details"/> after <paramref name="within"/> (default:
    /// <see cref="TestTimeouts.Default"/>). The condition may throw to fail the wait at once.
    /// </summary>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? within = null, Func<string>? details = null, TimeSpan? every = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, within, details, every);

    /// <inheritdoc cref="UntilAsync(Func{bool}, string, TimeSpan?, Func{string}?, TimeSpan?)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null, Func<string>? details = null, TimeSpan? every = null)
    {
        var limit = within ?? TestTimeouts.Default;
        var deadline = TimeProvider.System.GetUtcNow() + limit;
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"Waited {limit} in vain {what}" + (details is null ? "." : $":\n{details()}"));
            }

            await Task.Delay(every ?? DefaultInterval);
        }
    }
}

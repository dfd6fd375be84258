namespace HlmHub.Server.Features.Eligibility;

/// <summary>The eligibility service's limits, bound from <c>Eligibility</c>; each default is documented in docs/federation-and-eligibility.md.</summary>
internal sealed class EligibilityOptions
{
    public const string SectionName = "Eligibility";

    /// <summary>The largest <see cref="WatchPageSize"/> the hub starts with.</summary>
    public const int MaxWatchPageSize = 10_000;

    /// <summary>
    /// Households per Watch page (default 500, a few tens of KB, at most <see cref="MaxWatchPageSize"/>): one keyset
    /// page, read at once and sent in one message, or in several where it would pass <c>Hub:MaxMessageSizeBytes</c>.
    /// </summary>
    public int WatchPageSize { get; set; } = 500;

    /// <summary>How often an open Watch stream looks for changes (default 2 seconds).</summary>
    public TimeSpan WatchPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How far behind the clock a Watch window ends (default 10 seconds). A change is stamped when it is made and
    /// visible when its transaction commits: a window closes only once every transaction stamped inside it has had
    /// this long to commit, so a slow roster batch is never skipped.
    /// </summary>
    public TimeSpan WatchSettleDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Watch streams one partner may hold open at once, per hub instance (default 4).</summary>
    public int MaxWatchStreamsPerPartner { get; set; } = 4;
}

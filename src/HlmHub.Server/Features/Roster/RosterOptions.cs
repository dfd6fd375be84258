using HlmHub.Server.Hosting;

namespace HlmHub.Server.Features.Roster;

/// <summary>The roster sync limits, bound from <c>Roster</c>; each default is documented in docs/roster.md.</summary>
internal sealed class RosterOptions
{
    public const string SectionName = "Roster";

    /// <summary>
    /// The most <see cref="MaxProblemsReported"/> and <see cref="MemberTokensPageSize"/> the hub starts with: each is
    /// read into memory at once, and sent in one message.
    /// </summary>
    public const int MaxListedItems = 10_000;

    /// <summary>Items in one request message (default 1,000): one message is one batch, applied at once.</summary>
    public int MaxItemsPerBatch { get; set; } = 1_000;

    /// <summary>
    /// Items of one stream written in one database transaction (default 10,000): consecutive batches share a
    /// transaction until this many, or until the next message is not already there (the hub never keeps a
    /// transaction open while it waits on the landlord). Fewer commits make a full snapshot faster; more items per
    /// commit hold SQLite's single write lock longer, and a stream broken mid-transaction resends more.
    /// </summary>
    public int MaxItemsPerCommit { get; set; } = 10_000;

    /// <summary>Items in one session (default 2,000,000: the largest French social landlord has about 1.5 times fewer homes).</summary>
    public long MaxItemsPerSession { get; set; } = 2_000_000;

    /// <summary>
    /// Open sessions per landlord (default 1). One at a time keeps a full snapshot's "absent means left" exact: a delta
    /// running beside it could otherwise be undone by it. An open session idle for <see cref="SessionIdleTimeout"/>
    /// no longer counts. Enforced under the landlord's lock (RosterSync.LockLandlordAsync), so starts at the same moment
    /// cannot exceed it.
    /// </summary>
    public int MaxOpenSessionsPerLandlord { get; set; } = 1;

    /// <summary>
    /// How long an open session may stay idle and still block a new one, be resumed, take batches or complete (default
    /// 1 hour). Past it the session is refused even on a stream still open: it no longer counted, so another may have run.
    /// </summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rejected and stale items listed one by one in a session's summary (default 1,000; all are counted).</summary>
    public int MaxProblemsReported { get; set; } = 1_000;

    /// <summary>Member tokens per page of <c>ListMemberTokens</c> (default 1,000, about 80 KB a page).</summary>
    public int MemberTokensPageSize { get; set; } = 1_000;

    /// <summary>
    /// The start-up rules. The problems of a session and a page of member tokens are each one message: at their bound,
    /// every item at its longest (<see cref="ReplyMessageSize"/>), they must fit <paramref name="maxMessageBytes"/>
    /// (<c>Hub:MaxMessageSizeBytes</c>; null when that setting is itself invalid), or the landlord would get
    /// RESOURCE_EXHAUSTED instead of its session's answer, or an ended token stream.
    /// </summary>
    public static void Check(SettingChecks check, RosterOptions options, int? maxMessageBytes)
    {
        check
            .Positive(nameof(MaxItemsPerBatch), options.MaxItemsPerBatch)
            .Positive(nameof(MaxItemsPerCommit), options.MaxItemsPerCommit)
            .Positive(nameof(MaxItemsPerSession), options.MaxItemsPerSession)
            .Positive(nameof(MaxOpenSessionsPerLandlord), options.MaxOpenSessionsPerLandlord)
            .Positive(nameof(SessionIdleTimeout), options.SessionIdleTimeout)
            .InRange(nameof(MaxProblemsReported), options.MaxProblemsReported, 0, MaxListedItems)
            .InRange(nameof(MemberTokensPageSize), options.MemberTokensPageSize, 1, MaxListedItems);
        if (maxMessageBytes is not { } max)
        {
            return;
        }

        var maxProblems = ReplyMessageSize.MaxProblems(max);
        if (options.MaxProblemsReported is >= 0 and <= MaxListedItems && options.MaxProblemsReported > maxProblems)
        {
            check.Rule(false, nameof(MaxProblemsReported),
                $"must be at most {maxProblems}, the problems at their longest that fit Hub:MaxMessageSizeBytes ({max}) in one session's answer (it is {options.MaxProblemsReported})");
        }

        var maxTokens = ReplyMessageSize.MaxMemberTokens(max);
        if (options.MemberTokensPageSize is >= 1 and <= MaxListedItems && options.MemberTokensPageSize > maxTokens)
        {
            check.Rule(false, nameof(MemberTokensPageSize),
                $"must be at most {maxTokens}, the member tokens with references at their longest that fit Hub:MaxMessageSizeBytes ({max}) in one page (it is {options.MemberTokensPageSize})");
        }
    }
}

namespace HlmHub.Server.Features.Roster;

/// <summary>The roster sync limits, bound from <c>Roster</c>; each default is documented in docs/roster.md.</summary>
internal sealed class RosterOptions
{
    public const string SectionName = "Roster";

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
}

namespace HlmHub.Domain.Roster;

/// <summary>Whether a session lists the whole roster or only changes.</summary>
public enum RosterSessionKind
{
    /// <summary>The whole roster: at completion, the landlord's households it did not list are marked as left.</summary>
    FullSnapshot,

    /// <summary>Changes only.</summary>
    Delta,
}

/// <summary>Where a roster session is.</summary>
public enum RosterSessionStatus
{
    /// <summary>Receiving items; a broken stream resumes after <see cref="RosterSession.LastSequence"/>.</summary>
    Open,

    /// <summary>Completed: applied once, never again.</summary>
    Completed,

    /// <summary>
    /// Abandoned by the landlord: nothing more of it is applied, what it committed stays, and it no longer takes a
    /// slot of Roster:MaxOpenSessionsPerLandlord. The way out of a session that must not be completed (a full
    /// snapshot cut short would mark every household it did not reach as left).
    /// </summary>
    Abandoned,
}

/// <summary>
/// One roster sync of one landlord: its items are applied in batches, each committed with the session's progress,
/// so <see cref="LastSequence"/> is exactly what is durable and a landlord whose stream broke resumes after it.
/// </summary>
public sealed class RosterSession
{
    private RosterSession()
    {
        LandlordId = "";
    }

    /// <summary>The session id the landlord resumes with.</summary>
    public Guid Id { get; private set; }

    /// <summary>The landlord.</summary>
    public string LandlordId { get; private set; }

    /// <summary>Full snapshot or delta.</summary>
    public RosterSessionKind Kind { get; private set; }

    /// <summary>Open, completed or abandoned.</summary>
    public RosterSessionStatus Status { get; private set; }

    /// <summary>The last item sequence applied and committed (0 before the first).</summary>
    public long LastSequence { get; private set; }

    /// <summary>Households created.</summary>
    public long Created { get; private set; }

    /// <summary>Households updated.</summary>
    public long Updated { get; private set; }

    /// <summary>Households marked as left (by a removal, or, at the end of a full snapshot, by absence).</summary>
    public long Removed { get; private set; }

    /// <summary>Items that changed nothing.</summary>
    public long Unchanged { get; private set; }

    /// <summary>Items older than the stored version, ignored.</summary>
    public long Stale { get; private set; }

    /// <summary>Items refused.</summary>
    public long Rejected { get; private set; }

    /// <summary>When it started.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>When it last committed progress, was resumed, or ended: what its idle time counts from.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>When it completed.</summary>
    public DateTimeOffset? CompletedAt { get; private set; }

    /// <summary>Items received (every outcome counts).</summary>
    public long Items => Created + Updated + Removed + Unchanged + Stale + Rejected;

    /// <summary>Starts a session.</summary>
    public static RosterSession Start(Guid id, string landlordId, RosterSessionKind kind, DateTimeOffset at) => new()
    {
        Id = Require.NotEmpty("session_id", id),
        LandlordId = Require.Slug("landlordId", landlordId),
        Kind = Require.Defined("kind", kind),
        Status = RosterSessionStatus.Open,
        StartedAt = at,
        UpdatedAt = at,
    };

    /// <summary>Records one applied item; sequences must strictly increase.</summary>
    public void Record(RosterItemResult result, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(result);
        EnsureOpen();
        if (result.Sequence <= LastSequence)
        {
            throw DomainException.Precondition("sequence", $"{result.Sequence} is not after the last applied sequence {LastSequence}");
        }

        LastSequence = result.Sequence;
        UpdatedAt = at;
        switch (result.Outcome)
        {
            case RosterItemOutcome.Created: Created++; break;
            case RosterItemOutcome.Updated: Updated++; break;
            case RosterItemOutcome.Removed: Removed++; break;
            case RosterItemOutcome.Unchanged: Unchanged++; break;
            case RosterItemOutcome.Stale: Stale++; break;
            default: Rejected++; break;
        }
    }

    /// <summary>Completes the session; <paramref name="leftByAbsence"/> households were marked as left by a full snapshot.</summary>
    public void Complete(long leftByAbsence, DateTimeOffset at)
    {
        EnsureOpen();
        if (leftByAbsence > 0 && Kind != RosterSessionKind.FullSnapshot)
        {
            throw DomainException.Precondition("kind", "only a full snapshot marks absent households as left");
        }

        Removed += leftByAbsence;
        Status = RosterSessionStatus.Completed;
        CompletedAt = at;
        UpdatedAt = at;
    }

    /// <summary>Whether it has been idle for more than <paramref name="idleTimeout"/> at <paramref name="at"/>.</summary>
    public bool IsIdleAt(DateTimeOffset at, TimeSpan idleTimeout) => UpdatedAt < at - idleTimeout;

    /// <summary>A stream resumed the session: its idle time starts again.</summary>
    public void Resume(DateTimeOffset at)
    {
        EnsureOpen();
        UpdatedAt = at;
    }

    /// <summary>
    /// Abandons the session: nothing more is applied, what it committed stays. Abandoning an abandoned session
    /// changes nothing (a landlord that lost the answer asks again); a completed one cannot be abandoned.
    /// </summary>
    public void Abandon(DateTimeOffset at)
    {
        if (Status == RosterSessionStatus.Abandoned)
        {
            return;
        }

        EnsureOpen();
        Status = RosterSessionStatus.Abandoned;
        UpdatedAt = at;
    }

    private void EnsureOpen()
    {
        if (Status == RosterSessionStatus.Abandoned)
        {
            throw DomainException.Precondition("session_id", "the session was abandoned: start a new session");
        }

        if (Status != RosterSessionStatus.Open)
        {
            throw DomainException.Precondition("session_id", "the session is completed: a completed session cannot be applied twice");
        }
    }
}

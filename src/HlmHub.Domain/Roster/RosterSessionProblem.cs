namespace HlmHub.Domain.Roster;

/// <summary>
/// A stale or rejected item of a roster session, kept with the session in the transaction that decided it: a stream
/// that resumes a broken one skips the items already committed (they are never decided again), so the session's
/// answer can only list their problems from here. At most Roster:MaxProblemsReported are kept per session; the
/// session's counts stay exact beyond them.
/// </summary>
public sealed class RosterSessionProblem
{
    /// <summary>
    /// The longest reference kept: <see cref="RosterRules.ReferenceForEcho"/> cuts an oversized one to the longest
    /// valid reference and an ellipsis.
    /// </summary>
    public const int ReferenceMaxLength = Limits.LandlordReferenceMaxLength + 1;

    /// <summary>The longest message kept; the hub's messages are far shorter, this only bounds the column.</summary>
    public const int MessageMaxLength = 500;

    private RosterSessionProblem()
    {
        LandlordReference = "";
        Message = "";
    }

    /// <summary>The session.</summary>
    public Guid SessionId { get; private set; }

    /// <summary>The item's sequence in the session.</summary>
    public long Sequence { get; private set; }

    /// <summary>The item's reference as repeated to the landlord (cut, and without NUL: see <see cref="RosterRules.ReferenceForEcho"/>).</summary>
    public string LandlordReference { get; private set; }

    /// <summary><see cref="RosterItemOutcome.Stale"/> or <see cref="RosterItemOutcome.Rejected"/>.</summary>
    public RosterItemOutcome Status { get; private set; }

    /// <summary>Why it was rejected (<see cref="RosterRejection.None"/> when stale).</summary>
    public RosterRejection Reason { get; private set; }

    /// <summary>For a person: the field and the rule.</summary>
    public string Message { get; private set; }

    /// <summary>Whether <paramref name="result"/> is a problem the landlord is told about.</summary>
    public static bool IsProblem(RosterItemResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Outcome is RosterItemOutcome.Stale or RosterItemOutcome.Rejected;
    }

    /// <summary>The problem <paramref name="result"/> of session <paramref name="sessionId"/> is.</summary>
    public static RosterSessionProblem Of(Guid sessionId, RosterItemResult result)
    {
        if (!IsProblem(result))
        {
            throw DomainException.Precondition("outcome", $"item {result.Sequence} was {result.Outcome}: only stale and rejected items are problems");
        }

        return new RosterSessionProblem
        {
            SessionId = sessionId,
            Sequence = result.Sequence,
            LandlordReference = RosterRules.ReferenceForEcho(result.LandlordReference),
            Status = result.Outcome,
            Reason = result.Rejection,
            // A rejected reference or club id may hold a NUL (it is why it was rejected), which PostgreSQL cannot store
            // in text, and a cut must not leave half a surrogate pair: PrintableText.Cut keeps both storable, as U+FFFD
            // on every database, so the landlord reads the same answer whatever the hub runs on.
            Message = PrintableText.Cut(result.Message ?? "", MessageMaxLength - 1, "…"),
        };
    }
}

namespace HlmHub.Domain;

/// <summary>A partner's own totals for one offer in a statement.</summary>
public sealed class StatementLine
{
    private StatementLine()
    {
        OfferId = "";
    }

    /// <summary>The statement.</summary>
    public Guid StatementId { get; private set; }

    /// <summary>The offer.</summary>
    public string OfferId { get; private set; }

    /// <summary>
    /// Redemptions the partner counts in the month, net of the cancellations in the month. A cancellation counts in
    /// the month it happens, as the hub books it, not in its redemption's month, so a month whose cancellations
    /// outnumber its redemptions has a negative count.
    /// </summary>
    public int RedemptionCount { get; private set; }

    /// <summary>Total purchases, net of the month's cancellations (negative when they outweigh its redemptions).</summary>
    public Money PurchaseTotal { get; private set; }

    /// <summary>Total discounts given, net of the month's cancellations (negative when they outweigh its redemptions).</summary>
    public Money DiscountTotal { get; private set; }

    internal static StatementLine Create(Guid statementId, string offerId, int count, Money purchaseTotal, Money discountTotal) => new()
    {
        StatementId = statementId,
        OfferId = Require.Slug("lines.offerId", offerId),
        RedemptionCount = count,
        PurchaseTotal = NetTotal("lines.purchaseTotal", purchaseTotal),
        DiscountTotal = NetTotal("lines.discountTotal", discountTotal),
    };

    // Either way, the bound keeps a month's sums (the statement's and the reconciliation's) far from a 64-bit overflow.
    private static Money NetTotal(string field, Money value) =>
        value.Cents is >= -Limits.MaxTotalCents and <= Limits.MaxTotalCents
            ? value
            : throw DomainException.Invalid(field, $"must be between -{Limits.MaxTotalCents} and {Limits.MaxTotalCents} cents");
}

/// <summary>One event id a partner lists in its statement (optional, for event-level reconciliation).</summary>
public sealed class StatementEvent
{
    private StatementEvent()
    {
        PartnerEventId = "";
    }

    /// <summary>The statement.</summary>
    public Guid StatementId { get; private set; }

    /// <summary>The partner's event id.</summary>
    public string PartnerEventId { get; private set; }

    internal static StatementEvent Create(Guid statementId, string partnerEventId) => new()
    {
        StatementId = statementId,
        PartnerEventId = RequireWellFormed(partnerEventId),
    };

    // The rule redemptions apply to the same ids (kept exactly as sent), so an id listed here matches the event's,
    // and two ids that differ only by a surrounding space are not stored as one.
    internal static string RequireWellFormed(string partnerEventId) =>
        Require.Identifier("eventIds", partnerEventId, Limits.PartnerEventIdMaxLength);
}

/// <summary>
/// A partner's monthly totals per offer for one club, as the partner counts them. A resubmission is a new
/// revision; reconciliation uses the latest.
/// </summary>
public sealed class Statement
{
    private readonly List<StatementLine> _lines = [];
    private readonly List<StatementEvent> _events = [];

    private Statement()
    {
        PartnerId = "";
        ClubId = "";
    }

    /// <summary>The id.</summary>
    public Guid Id { get; private set; }

    /// <summary>The partner.</summary>
    public string PartnerId { get; private set; }

    /// <summary>The club.</summary>
    public string ClubId { get; private set; }

    /// <summary>The month covered.</summary>
    public Period Period { get; private set; }

    /// <summary>1 for the first submission for (partner, club, period), then 2, 3...</summary>
    public int Revision { get; private set; }

    /// <summary>When it was submitted.</summary>
    public DateTimeOffset SubmittedAt { get; private set; }

    /// <summary>The totals per offer.</summary>
    public IReadOnlyList<StatementLine> Lines => _lines;

    /// <summary>The event ids listed, if the partner sent them.</summary>
    public IReadOnlyList<StatementEvent> Events => _events;

    /// <summary>
    /// Checks a submission's ids by the rules <see cref="Submit"/> applies, so that a service can refuse a malformed
    /// one (INVALID_ARGUMENT naming it) before it looks anything up with it.
    /// </summary>
    public static void RequireWellFormedIds(string clubId, IEnumerable<string> offerIds, IEnumerable<string> eventIds)
    {
        ArgumentNullException.ThrowIfNull(offerIds);
        ArgumentNullException.ThrowIfNull(eventIds);
        Require.Slug("clubId", clubId);
        foreach (var offerId in offerIds)
        {
            Require.Slug("lines.offerId", offerId);
        }

        foreach (var eventId in eventIds)
        {
            StatementEvent.RequireWellFormed(eventId);
        }
    }

    /// <summary>Validates and creates a statement revision.</summary>
    public static Statement Submit(
        Guid id,
        string partnerId,
        string clubId,
        Period period,
        int revision,
        IEnumerable<(string OfferId, int RedemptionCount, Money PurchaseTotal, Money DiscountTotal)> lines,
        IEnumerable<string> eventIds,
        DateTimeOffset submittedAt)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(eventIds);
        var statement = new Statement
        {
            Id = Require.NotEmpty("id", id),
            PartnerId = Require.Slug("partnerId", partnerId),
            ClubId = Require.Slug("clubId", clubId),
            Period = period,
            Revision = Require.InRange("revision", revision, 1, int.MaxValue),
            SubmittedAt = submittedAt,
        };
        foreach (var line in lines)
        {
            if (statement._lines.Any(existing => existing.OfferId == line.OfferId))
            {
                throw DomainException.Invalid("lines.offerId", "must not repeat an offer");
            }

            statement._lines.Add(StatementLine.Create(id, line.OfferId, line.RedemptionCount, line.PurchaseTotal, line.DiscountTotal));
        }

        foreach (var eventId in eventIds.Distinct(StringComparer.Ordinal))
        {
            statement._events.Add(StatementEvent.Create(id, eventId));
        }

        return statement;
    }
}

namespace HlmHub.Domain.Reconciliation;

/// <summary>What a reconciliation found wrong (docs/reconciliation.md says how each is detected).</summary>
public enum DiscrepancyKind
{
    /// <summary>The hub accepted an event (or an offer's redemptions) the partner's statement does not show.</summary>
    MissingAtPartner,

    /// <summary>The partner's statement lists an event the hub did not accept in the month.</summary>
    MissingAtHub,

    /// <summary>For one offer, the statement's count, purchase or discount total differs from the hub's.</summary>
    AmountMismatch,

    /// <summary>The same purchase (member, offer, instant, amount) accepted under several event ids.</summary>
    Duplicate,

    /// <summary>Ledger postings that do not match the accepted redemptions.</summary>
    LedgerDrift,

    /// <summary>A contract's fee fell due and was not accrued.</summary>
    FeeNotAccrued,

    /// <summary>A fee still unpaid after its payment term.</summary>
    FeeOverdue,

    /// <summary>The club still owes a partner co-funded discounts at the month's end.</summary>
    SubsidyUnsettled,
}

/// <summary>
/// One recorded reconciliation of a club's month: who or what started it, its inputs (club, month, and a fingerprint
/// of what it read), its counts, how long it took; its discrepancies are <see cref="ReconciliationDiscrepancy"/> rows.
/// A dry run is never recorded. Written once, never changed.
/// </summary>
public sealed class ReconciliationRun
{
    private ReconciliationRun()
    {
        ClubId = "";
        StartedBy = "";
        InputsFingerprint = "";
        CountsByKind = "";
    }

    /// <summary>The id.</summary>
    public Guid Id { get; private set; }

    /// <summary>The club.</summary>
    public string ClubId { get; private set; }

    /// <summary>The month reconciled.</summary>
    public Period Period { get; private set; }

    /// <summary>The admin client id, or the scheduler's name.</summary>
    public string StartedBy { get; private set; }

    /// <summary>When it started.</summary>
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>How long it took, in milliseconds.</summary>
    public long DurationMilliseconds { get; private set; }

    /// <summary>Whether the month was closed when it started.</summary>
    public bool PeriodClosed { get; private set; }

    /// <summary>A hash of the figures it read; two runs with the same fingerprint saw the same inputs.</summary>
    public string InputsFingerprint { get; private set; }

    /// <summary>Accepted redemptions in the month.</summary>
    public long Redemptions { get; private set; }

    /// <summary>Accepted cancellations in the month.</summary>
    public long Cancellations { get; private set; }

    /// <summary>Discounts, net of cancellations.</summary>
    public Money DiscountTotal { get; private set; }

    /// <summary>Purchases, net of cancellations.</summary>
    public Money PurchaseTotal { get; private set; }

    /// <summary>Partners' latest statements used.</summary>
    public long Statements { get; private set; }

    /// <summary>The club's ledger transactions booked in the month.</summary>
    public long LedgerTransactions { get; private set; }

    /// <summary>Every discrepancy found (more than recorded when it hit the limit).</summary>
    public long DiscrepancyTotal { get; private set; }

    /// <summary>The discrepancies recorded (at most the configured limit).</summary>
    public long DiscrepanciesRecorded { get; private set; }

    /// <summary>Every discrepancy found per kind, as "Kind=count" pairs separated by ';' (read with <see cref="CountsPerKind"/>).</summary>
    public string CountsByKind { get; private set; }

    /// <summary>Every discrepancy found, per kind (kinds with none left out).</summary>
    public IReadOnlyDictionary<DiscrepancyKind, long> CountsPerKind() =>
        CountsByKind.Length == 0
            ? new Dictionary<DiscrepancyKind, long>()
            : CountsByKind.Split(';').Select(pair => pair.Split('='))
                .ToDictionary(pair => Enum.Parse<DiscrepancyKind>(pair[0]), pair => long.Parse(pair[1], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Records a finished run.</summary>
    public static ReconciliationRun Record(
        Guid id,
        string clubId,
        Period period,
        string startedBy,
        DateTimeOffset startedAt,
        TimeSpan duration,
        bool periodClosed,
        string inputsFingerprint,
        long redemptions,
        long cancellations,
        Money discountTotal,
        Money purchaseTotal,
        long statements,
        long ledgerTransactions,
        long discrepancyTotal,
        long discrepanciesRecorded,
        IReadOnlyDictionary<DiscrepancyKind, long> countsPerKind) => new()
    {
        Id = Require.NotEmpty("id", id),
        ClubId = Require.Slug("clubId", clubId),
        Period = period,
        StartedBy = Require.Text("startedBy", startedBy, Limits.NameMaxLength),
        StartedAt = startedAt,
        DurationMilliseconds = (long)duration.TotalMilliseconds,
        PeriodClosed = periodClosed,
        InputsFingerprint = Require.Text("inputsFingerprint", inputsFingerprint, 128),
        Redemptions = redemptions,
        Cancellations = cancellations,
        DiscountTotal = discountTotal,
        PurchaseTotal = purchaseTotal,
        Statements = statements,
        LedgerTransactions = ledgerTransactions,
        DiscrepancyTotal = discrepancyTotal,
        DiscrepanciesRecorded = discrepanciesRecorded,
        CountsByKind = string.Join(';', (countsPerKind ?? throw new ArgumentNullException(nameof(countsPerKind)))
            .Where(pair => pair.Value > 0).OrderBy(pair => pair.Key)
            .Select(pair => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{pair.Key}={pair.Value}"))),
    };
}

/// <summary>One discrepancy of a recorded run, numbered in the run's stable order.</summary>
public sealed class ReconciliationDiscrepancy
{
    private ReconciliationDiscrepancy()
    {
        Detail = "";
    }

    /// <summary>The run.</summary>
    public Guid RunId { get; private set; }

    /// <summary>Its place in the run's order, from 1.</summary>
    public int Sequence { get; private set; }

    /// <summary>The kind.</summary>
    public DiscrepancyKind Kind { get; private set; }

    /// <summary>The partner concerned.</summary>
    public string? PartnerId { get; private set; }

    /// <summary>The offer concerned.</summary>
    public string? OfferId { get; private set; }

    /// <summary>The contract concerned (fees).</summary>
    public string? ContractId { get; private set; }

    /// <summary>The partner's event id (event-level kinds).</summary>
    public string? PartnerEventId { get; private set; }

    /// <summary>The ledger account concerned.</summary>
    public string? AccountId { get; private set; }

    /// <summary>What the hub's records say, in cents.</summary>
    public long ExpectedCents { get; private set; }

    /// <summary>What the other side says, in cents.</summary>
    public long ActualCents { get; private set; }

    /// <summary>What the hub's records count.</summary>
    public long ExpectedCount { get; private set; }

    /// <summary>What the other side counts.</summary>
    public long ActualCount { get; private set; }

    /// <summary>One line a person can read.</summary>
    public string Detail { get; private set; }

    /// <summary>Creates a discrepancy row of a run.</summary>
    public static ReconciliationDiscrepancy Create(
        Guid runId,
        int sequence,
        DiscrepancyKind kind,
        string? partnerId,
        string? offerId,
        string? contractId,
        string? partnerEventId,
        string? accountId,
        long expectedCents,
        long actualCents,
        long expectedCount,
        long actualCount,
        string detail) => new()
    {
        RunId = runId,
        Sequence = sequence,
        Kind = kind,
        PartnerId = partnerId,
        OfferId = offerId,
        ContractId = contractId,
        PartnerEventId = partnerEventId,
        AccountId = accountId,
        ExpectedCents = expectedCents,
        ActualCents = actualCents,
        ExpectedCount = expectedCount,
        ActualCount = actualCount,
        // It may quote a partner's event id, any printable text: cut between whole characters, or PostgreSQL refuses it.
        Detail = PrintableText.Cut(detail, Limits.DescriptionMaxLength),
    };
}

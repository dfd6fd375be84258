namespace HlmHub.Domain.Ledger;

/// <summary>
/// A partner fee found still outstanding after its pay-by day (<see cref="FeeBooking.PayBy"/>), recorded once per
/// contract and due date by the daily overdue check, so staff see it and the check never reports it twice.
/// </summary>
public sealed class OverdueFee
{
    private OverdueFee()
    {
        ContractId = "";
        ClubId = "";
        PartnerId = "";
    }

    /// <summary>The contract whose fee is late.</summary>
    public string ContractId { get; private set; }

    /// <summary>The day the fee fell due.</summary>
    public DateOnly DueDate { get; private set; }

    /// <summary>The club owed the fee.</summary>
    public string ClubId { get; private set; }

    /// <summary>The partner owing it.</summary>
    public string PartnerId { get; private set; }

    /// <summary>The last day it could be paid on time.</summary>
    public DateOnly PayBy { get; private set; }

    /// <summary>What was still unpaid when it was found overdue.</summary>
    public Money Outstanding { get; private set; }

    /// <summary>When the check found it.</summary>
    public DateTimeOffset DetectedAt { get; private set; }

    /// <summary>Records that the fee of <paramref name="contract"/> due <paramref name="dueDate"/> is overdue.</summary>
    public static OverdueFee Record(Contract contract, DateOnly dueDate, DateOnly payBy, Money outstanding, DateTimeOffset detectedAt)
    {
        ArgumentNullException.ThrowIfNull(contract);
        return new OverdueFee
        {
            ContractId = contract.Id,
            DueDate = dueDate,
            ClubId = contract.ClubId,
            PartnerId = contract.PartnerId,
            PayBy = payBy,
            Outstanding = Require.NotNegative("outstanding", outstanding),
            DetectedAt = detectedAt,
        };
    }
}

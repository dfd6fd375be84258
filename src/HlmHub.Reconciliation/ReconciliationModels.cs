using HlmHub.Domain;
using HlmHub.Domain.Reconciliation;

namespace HlmHub.Reconciliation;

/// <summary>What to reconcile: a club's month; a dry run records nothing; who or what started it.</summary>
public sealed record ReconciliationRequest(string ClubId, Period Period, bool DryRun, string StartedBy);

/// <summary>Where a run is: phase <paramref name="PhaseNumber"/> of <paramref name="PhaseCount"/>, items done of the phase's total.</summary>
public sealed record ReconciliationProgress(string Phase, int PhaseNumber, int PhaseCount, long Done, long Total);

/// <summary>One discrepancy found (see <see cref="DiscrepancyKind"/> and docs/reconciliation.md for each kind's fields).</summary>
public sealed record FoundDiscrepancy(
    DiscrepancyKind Kind,
    string? PartnerId,
    string? OfferId,
    string? ContractId,
    string? PartnerEventId,
    string? AccountId,
    long ExpectedCents,
    long ActualCents,
    long ExpectedCount,
    long ActualCount,
    string Detail);

/// <summary>
/// A reconciliation's outcome. <see cref="RunId"/> is null for a dry run. <see cref="Discrepancies"/> holds at most
/// <see cref="ReconciliationOptions.MaxDiscrepanciesInReport"/> of them (the first in the run's stable order);
/// <see cref="DiscrepancyCounts"/> and <see cref="DiscrepancyTotal"/> count every one found.
/// </summary>
public sealed record ReconciliationReport(
    Guid? RunId,
    string ClubId,
    Period Period,
    bool DryRun,
    string StartedBy,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    bool PeriodClosed,
    string InputsFingerprint,
    long Redemptions,
    long Cancellations,
    Money DiscountTotal,
    Money PurchaseTotal,
    long Statements,
    long LedgerTransactions,
    IReadOnlyDictionary<DiscrepancyKind, long> DiscrepancyCounts,
    long DiscrepancyTotal,
    IReadOnlyList<FoundDiscrepancy> Discrepancies,
    bool DiscrepanciesTruncated)
{
    /// <summary>Whether two reports say the same thing about the same inputs (run id, start and duration aside).</summary>
    public bool SameFindingsAs(ReconciliationReport other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ClubId == other.ClubId && Period == other.Period && InputsFingerprint == other.InputsFingerprint
            && Redemptions == other.Redemptions && Cancellations == other.Cancellations && DiscountTotal == other.DiscountTotal
            && PurchaseTotal == other.PurchaseTotal && Statements == other.Statements && LedgerTransactions == other.LedgerTransactions
            && DiscrepancyTotal == other.DiscrepancyTotal && DiscrepanciesTruncated == other.DiscrepanciesTruncated
            && DiscrepancyCounts.Count == other.DiscrepancyCounts.Count
            && DiscrepancyCounts.All(pair => other.DiscrepancyCounts.TryGetValue(pair.Key, out var count) && count == pair.Value)
            && Discrepancies.SequenceEqual(other.Discrepancies);
    }
}

using Microsoft.Extensions.Options;

namespace HlmHub.Reconciliation;

/// <summary>The engine's named limits (configuration section <c>Reconciliation</c>), validated at start-up.</summary>
public sealed class ReconciliationOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Reconciliation";

    /// <summary>
    /// Discrepancies a run keeps (recorded, and held while it runs): 100,000 by default. Beyond it the counts stay
    /// exact and the report says it was truncated, so a month gone badly wrong cannot fill the memory or the database.
    /// </summary>
    public int MaxDiscrepanciesRecorded { get; set; } = 100_000;

    /// <summary>Discrepancies carried inside a report (the rest are paged with ListDiscrepancies): 100 by default.</summary>
    public int MaxDiscrepanciesInReport { get; set; } = 100;

    /// <summary>Rows read or written per round trip where the engine pages through a month: 5,000 by default.</summary>
    public int BatchSize { get; set; } = 5_000;

    /// <summary>
    /// How many ended months back the monthly reconciliation job looks for months to reconcile (default 12): every
    /// month not closed and without an up-to-date run in that window is reconciled, so missed firings and failed months
    /// are caught up. The bound keeps a club never closed from being reconciled back to its creation at every firing;
    /// an older month is reconciled with <c>hlmhub reconcile</c>.
    /// </summary>
    public int CatchUpMonths { get; set; } = 12;

    /// <summary>
    /// <c>RunReconciliation</c> calls one club may have running at once on one hub instance (default 2: a recorded
    /// run and a dry run beside it). Each run reads a whole month in one database snapshot; one more is
    /// RESOURCE_EXHAUSTED naming this setting, so one club's administrator cannot take the database from the others.
    /// The monthly job does not count against it.
    /// </summary>
    public int MaxConcurrentRunsPerClub { get; set; } = 2;

    /// <summary>The setting both the fee jobs and reconciliation read for the payment term.</summary>
    public const string PaymentTermSetting = "Fees:PaymentTermDays";

    /// <summary>
    /// Days a partner has to pay a fee once due: <see cref="HlmHub.Domain.Ledger.FeeBooking.DefaultPaymentTermDays"/>
    /// by default. Read from <see cref="PaymentTermSetting"/>, the overdue-fees job's own setting, not from this
    /// section: two settings for one term would let the job and the reconciliation disagree on what is overdue.
    /// </summary>
    public int FeePaymentTermDays { get; internal set; } = HlmHub.Domain.Ledger.FeeBooking.DefaultPaymentTermDays;

    /// <summary>
    /// What is wrong with these settings, one sentence each naming the setting, its rule and the value found (the
    /// form of the hub's other start-up checks, so the payment term, checked by the fee jobs too, reads the same).
    /// </summary>
    internal IEnumerable<string> Problems()
    {
        if (MaxDiscrepanciesRecorded <= 0)
        {
            yield return $"{SectionName}:{nameof(MaxDiscrepanciesRecorded)} must be greater than 0 (it is {MaxDiscrepanciesRecorded})";
        }

        if (MaxDiscrepanciesInReport <= 0 || MaxDiscrepanciesInReport > MaxDiscrepanciesRecorded)
        {
            yield return $"{SectionName}:{nameof(MaxDiscrepanciesInReport)} must be 1 to {SectionName}:{nameof(MaxDiscrepanciesRecorded)} ({MaxDiscrepanciesRecorded}) (it is {MaxDiscrepanciesInReport})";
        }

        if (BatchSize is <= 0 or > 100_000)
        {
            yield return $"{SectionName}:{nameof(BatchSize)} must be 1 to 100000 (it is {BatchSize})";
        }

        if (CatchUpMonths is <= 0 or > 120)
        {
            yield return $"{SectionName}:{nameof(CatchUpMonths)} must be 1 to 120 (it is {CatchUpMonths})";
        }

        if (MaxConcurrentRunsPerClub is <= 0 or > 100)
        {
            yield return $"{SectionName}:{nameof(MaxConcurrentRunsPerClub)} must be 1 to 100 (it is {MaxConcurrentRunsPerClub})";
        }

        if (FeePaymentTermDays is < 0 or > 366)
        {
            yield return $"{PaymentTermSetting} must be 0 to 366 (it is {FeePaymentTermDays})";
        }
    }
}

/// <summary>Checks <see cref="ReconciliationOptions"/> at start-up (<see cref="ReconciliationOptions.Problems"/>).</summary>
internal sealed class ReconciliationOptionsValidation : IValidateOptions<ReconciliationOptions>
{
    public ValidateOptionsResult Validate(string? name, ReconciliationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

namespace HlmHub.Storage.Configuration;

/// <summary>
/// The triggers each provider's migrations create. The model declares them (<c>HasTrigger</c>) so that EF Core
/// writes to those tables in a way triggers allow: on SQL Server, a plain INSERT instead of MERGE ... OUTPUT, which
/// SQL Server refuses on a table with triggers. The DDL itself is in each provider's migrations project.
/// </summary>
internal static class TriggerNames
{
    public const string LedgerEntriesAppendOnly = "TR_LedgerEntries_AppendOnly";

    public const string LedgerEntriesBalanced = "TR_LedgerEntries_Balanced";

    public const string LedgerTransactionsAppendOnly = "TR_LedgerTransactions_AppendOnly";

    public const string LedgerTransactionsOpenPeriodOnly = "TR_LedgerTransactions_OpenPeriodOnly";

    public const string PeriodClosuresAppendOnly = "TR_PeriodClosures_AppendOnly";

    public const string OfferVersionImmutableOnceRedeemed = "TR_OfferVersions_ImmutableOnceRedeemed";
}

/// <summary>Check constraints of the model (same SQL on every provider: standard double-quoted names).</summary>
internal static class CheckConstraintNames
{
    public const string LedgerEntryAmountPositive = "CK_LedgerEntries_AmountPositive";

    public const string LedgerEntrySideValid = "CK_LedgerEntries_SideValid";

    public const string HouseholdRoomsInRange = "CK_Households_RoomsInRange";
}

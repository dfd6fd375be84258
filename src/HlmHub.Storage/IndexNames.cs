namespace HlmHub.Storage;

/// <summary>
/// Names of the unique indexes that hold business invariants, so a caller that loses a race (two admins adding a
/// plumber at once, a partner retrying an event) can recognise the violation in the provider's exception.
/// </summary>
public static class IndexNames
{
    /// <summary>At most one active building-trade contract per (club, trade).</summary>
    public const string OneActiveBuildingTradePerClub = "UX_Contracts_ActiveBuildingTrade";

    /// <summary>One redemption per (partner, partner event id).</summary>
    public const string OneRedemptionPerPartnerEvent = "UX_Redemptions_PartnerEvent";

    /// <summary>A ledger transaction's idempotency key is unique.</summary>
    public const string OneLedgerTransactionPerIdempotencyKey = "UX_LedgerTransactions_IdempotencyKey";
}

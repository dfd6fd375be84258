namespace HlmHub.Domain;

/// <summary>Named limits of the domain; the storage columns are sized from them.</summary>
public static class Limits
{
    /// <summary>Slug ids (landlords, clubs, partners, contracts, offers): at most 100 characters.</summary>
    public const int SlugMaxLength = 100;

    /// <summary>Display names: at most 200 characters.</summary>
    public const int NameMaxLength = 200;

    /// <summary>A landlord's own household reference: at most 100 characters.</summary>
    public const int LandlordReferenceMaxLength = 100;

    /// <summary>A building trade (plumber, painter...): at most 50 characters.</summary>
    public const int TradeMaxLength = 50;

    /// <summary>A partner's event id (its idempotency key): at most 100 characters.</summary>
    public const int PartnerEventIdMaxLength = 100;

    /// <summary>A member token: "mt_" and 43 base64url characters.</summary>
    public const int MemberTokenMaxLength = 64;

    /// <summary>A ledger transaction's idempotency key: at most 200 characters.</summary>
    public const int IdempotencyKeyMaxLength = 200;

    /// <summary>A ledger account id: at most 250 characters.</summary>
    public const int LedgerAccountIdMaxLength = 250;

    /// <summary>Free-text descriptions: at most 500 characters.</summary>
    public const int DescriptionMaxLength = 500;

    /// <summary>Households have 1 to 7 rooms.</summary>
    public const int MinRooms = 1;

    /// <summary>Households have 1 to 7 rooms.</summary>
    public const int MaxRooms = 7;

    /// <summary>
    /// One amount a partner or an administrator sends (a purchase, a discount, a fee payment): at most 10,000,000.00
    /// EUR. No tenant's purchase comes near it; a larger figure is a slip (units, a misplaced digit), and a bound keeps
    /// every sum of amounts the hub computes (a month's redemptions of a club) far from a 64-bit overflow.
    /// </summary>
    public const long MaxAmountCents = 1_000_000_000;

    /// <summary>
    /// One total a partner declares in a statement line (a month of one offer): at most 10,000,000,000.00 EUR, so that
    /// a statement's lines add up without overflow as well.
    /// </summary>
    public const long MaxTotalCents = 1_000_000_000_000;

    /// <summary>Entries in one ledger transaction: at most 20, so a transaction stays a readable journal line.</summary>
    public const int MaxEntriesPerTransaction = 20;
}

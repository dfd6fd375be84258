namespace HlmHub.Domain;

/// <summary>
/// What one household has used of one capped offer in one month (the month its redemptions happened in, Paris):
/// accepted redemptions counted net of cancellations. It is one row that every redemption of a capped offer
/// updates in its own transaction, with a version checked on write, so two hub instances deciding at the same time
/// cannot both spend the last unit of a cap: the second write finds a newer version and its batch is decided
/// again. Offers without caps keep no usage.
/// </summary>
public sealed class RedemptionUsage
{
    private RedemptionUsage()
    {
        OfferId = "";
    }

    /// <summary>The household.</summary>
    public Guid HouseholdId { get; private set; }

    /// <summary>The offer.</summary>
    public string OfferId { get; private set; }

    /// <summary>The month the redemptions happened in.</summary>
    public Period Period { get; private set; }

    /// <summary>Accepted redemptions, net of cancellations.</summary>
    public int RedemptionCount { get; private set; }

    /// <summary>Their computed discounts, net of cancellations.</summary>
    public Money DiscountTotal { get; private set; }

    /// <summary>Incremented by every change; the storage checks it on write (optimistic concurrency).</summary>
    public long Version { get; private set; }

    /// <summary>The usage so far, as the cap rule reads it.</summary>
    public Rules.PeriodUsage AsPeriodUsage => new(RedemptionCount, DiscountTotal);

    /// <summary>No usage yet.</summary>
    public static RedemptionUsage Start(Guid householdId, string offerId, Period period) => new()
    {
        HouseholdId = Require.NotEmpty("householdId", householdId),
        OfferId = Require.Slug("offerId", offerId),
        Period = period,
        DiscountTotal = Money.Zero,
    };

    /// <summary>One more accepted redemption giving <paramref name="discount"/>.</summary>
    public void Add(Money discount)
    {
        RedemptionCount = checked(RedemptionCount + 1);
        DiscountTotal += discount;
        Version++;
    }

    /// <summary>A cancelled redemption that gave <paramref name="discount"/> no longer counts.</summary>
    public void Remove(Money discount)
    {
        RedemptionCount = Math.Max(0, RedemptionCount - 1);
        DiscountTotal = Money.Max(Money.Zero, DiscountTotal - discount);
        Version++;
    }
}

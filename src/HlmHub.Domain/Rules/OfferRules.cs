namespace HlmHub.Domain.Rules;

/// <summary>What a household has already used of an offer in one period.</summary>
public readonly record struct PeriodUsage(int RedemptionCount, Money DiscountTotal)
{
    /// <summary>Nothing used yet.</summary>
    public static readonly PeriodUsage None = new(0, Money.Zero);
}

/// <summary>The value of an offer for one purchase.</summary>
public static class DiscountRules
{
    /// <summary>
    /// The discount the hub computes for a purchase, or null when the offer has no price for this household
    /// (a room tariff without a line for its number of rooms). Fixed discounts never exceed the purchase; percent
    /// discounts round down to the cent and stop at their cap; a room tariff gives the public premium less the
    /// negotiated one; a service price gives no discount.
    /// </summary>
    public static Money? Compute(OfferTerms terms, Money purchaseAmount, int rooms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (purchaseAmount.Cents < 0)
        {
            throw DomainException.Invalid("purchaseAmount", "must not be negative");
        }

        return terms.Kind switch
        {
            OfferKind.FixedDiscount => Money.Min(terms.FixedDiscount!.Value, purchaseAmount),
            OfferKind.PercentDiscount => Capped(purchaseAmount.Percent(terms.PercentBasisPoints!.Value), terms.PercentCap),
            OfferKind.RoomTariff => terms.RoomTariffs.Where(tariff => tariff.Rooms == rooms)
                .Select(tariff => (Money?)tariff.Saving)
                .FirstOrDefault(),
            OfferKind.ServicePrice => Money.Zero,
            _ => throw new ArgumentOutOfRangeException(nameof(terms), terms.Kind, "Unknown offer kind."),
        };
    }

    /// <summary>The part of a discount the club funds (rounded down), the partner funding the rest.</summary>
    public static Money ClubFundedShare(OfferTerms terms, Money discount)
    {
        ArgumentNullException.ThrowIfNull(terms);
        return discount.Percent(terms.ClubFundedBasisPoints);
    }

    private static Money Capped(Money discount, Money? cap) => cap is { } limit ? Money.Min(discount, limit) : discount;
}

/// <summary>Per-household caps per period (a calendar month in Paris).</summary>
public static class CapRules
{
    /// <summary>
    /// Whether one more redemption giving <paramref name="discount"/> stays within the offer's caps, given what the
    /// household already used in the period. Cancelled redemptions must not be counted in <paramref name="used"/>.
    /// </summary>
    public static bool Allows(OfferTerms terms, PeriodUsage used, Money discount)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.CapCountPerPeriod is { } maximumCount && checked(used.RedemptionCount + 1) > maximumCount)
        {
            return false;
        }

        return terms.CapAmountPerPeriod is not { } maximumAmount || used.DiscountTotal + discount <= maximumAmount;
    }
}

/// <summary>Who may use an offer.</summary>
public static class EligibilityRules
{
    /// <summary>
    /// Null when the household may use the offer, else why not: a household that has left, is not a member of a
    /// members-only offer's club, or, for any offer, is not a tenant of a landlord taking part in the club
    /// (<see cref="ClubEligibility.IsClubTenant"/>; a member is one) is <see cref="RejectionReason.NotAMember"/>,
    /// decided before the offer's own conditions, so that nothing about a stranger household is told; one outside the
    /// rooms range or the QPV restriction is <see cref="RejectionReason.NotEligible"/>.
    /// </summary>
    public static RejectionReason? Check(OfferTerms terms, Household household, bool isClubMember, bool isClubTenant = false)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(household);
        if (household.Status != HouseholdStatus.Active || !(isClubMember || isClubTenant) || (terms.MembersOnly && !isClubMember))
        {
            return RejectionReason.NotAMember;
        }

        if ((terms.MinRooms is { } minimum && household.Rooms < minimum)
            || (terms.MaxRooms is { } maximum && household.Rooms > maximum)
            || (terms.QpvOnly && !household.InQpv))
        {
            return RejectionReason.NotEligible;
        }

        return null;
    }

    /// <summary>Whether an instant is inside the offer's validity window (end exclusive).</summary>
    public static bool IsWithinWindow(OfferTerms terms, DateTimeOffset instant)
    {
        ArgumentNullException.ThrowIfNull(terms);
        return instant >= terms.ValidFrom && (terms.ValidUntil is not { } until || instant < until);
    }
}

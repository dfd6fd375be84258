using HlmHub.Domain;
using HlmHub.Domain.Rules;

namespace HlmHub.Domain.Tests;

public sealed class DiscountRuleTests
{
    [Theory]
    [InlineData(120_000, 10_000)] // 100 EUR off a 1,200 EUR driving licence.
    [InlineData(6_000, 6_000)] // Never more than the purchase.
    [InlineData(0, 0)]
    public void FixedDiscount_IsTheAmountUpToThePurchase(long purchaseCents, long expectedCents)
    {
        Assert.Equal(new Money(expectedCents), DiscountRules.Compute(Samples.Fixed(100), new Money(purchaseCents), rooms: 3));
    }

    [Theory]
    [InlineData(1_999, null, 199)] // 10 % of 19.99 EUR, rounded down.
    [InlineData(100_000, 500L, 500)] // Capped at 5 EUR.
    [InlineData(4_000, 500L, 400)] // Under the cap.
    public void PercentDiscount_RoundsDownAndStopsAtTheCap(long purchaseCents, long? capCents, long expectedCents)
    {
        Assert.Equal(new Money(expectedCents), DiscountRules.Compute(Samples.Percent(1000, capCents), new Money(purchaseCents), rooms: 2));
    }

    [Fact]
    public void RoomTariff_GivesPublicLessNegotiatedPremiumForTheRooms()
    {
        Assert.Equal(Money.FromEuros(150), DiscountRules.Compute(Samples.Insurance(), Money.FromEuros(130), rooms: 3));
        Assert.Equal(Money.FromEuros(120), DiscountRules.Compute(Samples.Insurance(), Money.FromEuros(90), rooms: 1));
    }

    [Fact]
    public void RoomTariff_WithoutALineForTheRooms_HasNoPrice()
    {
        Assert.Null(DiscountRules.Compute(Samples.Insurance(), Money.FromEuros(130), rooms: 5));
    }

    [Fact]
    public void ServicePrice_GivesNoDiscount()
    {
        var terms = new OfferTerms { Kind = OfferKind.ServicePrice, ServicePrice = Money.FromEuros(1), ValidFrom = Samples.Now };

        Assert.Equal(Money.Zero, DiscountRules.Compute(terms, Money.FromEuros(1), rooms: 2));
    }

    [Fact]
    public void ClubFundedShare_IsItsShareOfTheDiscount()
    {
        var terms = Samples.Fixed(100) with { ClubFundedBasisPoints = 2_500 };

        Assert.Equal(Money.FromEuros(25), DiscountRules.ClubFundedShare(terms, Money.FromEuros(100)));
    }
}

public sealed class OfferTermsTests
{
    [Fact]
    public void PercentOfferWithoutPercentage_NamesTheMissingField()
    {
        var terms = new OfferTerms { Kind = OfferKind.PercentDiscount, ValidFrom = Samples.Now };

        var error = Assert.Throws<DomainException>(terms.Validate);

        Assert.Equal("percentBasisPoints", error.Field);
    }

    [Fact]
    public void FixedOfferWithAPercentage_NamesTheExtraField()
    {
        var terms = Samples.Fixed(10) with { PercentBasisPoints = 500 };

        Assert.Equal("percentBasisPoints", Assert.Throws<DomainException>(terms.Validate).Field);
    }

    [Fact]
    public void WindowEndingBeforeItStarts_IsRefused()
    {
        var terms = Samples.Fixed(10) with { ValidUntil = Samples.Now.AddDays(-31) };

        Assert.Equal("validUntil", Assert.Throws<DomainException>(terms.Validate).Field);
    }

    [Fact]
    public void TariffWithPublicBelowNegotiated_IsRefused()
    {
        var terms = Samples.Insurance() with { RoomTariffs = [new RoomTariff(2, Money.FromEuros(200), Money.FromEuros(100))] };

        Assert.Equal("roomTariffs.publicPremium", Assert.Throws<DomainException>(terms.Validate).Field);
    }

    [Fact]
    public void RoomsRangeUpsideDown_IsRefused()
    {
        var terms = Samples.Fixed(10) with { MinRooms = 4, MaxRooms = 2 };

        Assert.Equal("maxRooms", Assert.Throws<DomainException>(terms.Validate).Field);
    }

    [Fact]
    public void Revise_MakesANewVersionAndLeavesTheOldOneAsItWas()
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");
        var (offer, first) = Offer.Create("pain-10", contract, "10 % sur le pain", Samples.Percent(1000), Samples.Now);

        var second = offer.Revise(Samples.Percent(1500), Samples.Now.AddDays(1));

        Assert.Equal(2, offer.CurrentVersion);
        Assert.Equal(2, second.Version);
        Assert.Equal(1000, first.PercentBasisPoints);
        Assert.Equal(1500, second.PercentBasisPoints);
        Assert.Equal(first.Terms, first.Terms with { });
    }

    [Fact]
    public void OfferUnderEndedContract_IsRefused()
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");
        contract.End(new DateOnly(2026, 6, 30), Samples.Now);

        var error = Assert.Throws<DomainException>(() => Offer.Create("pain-10", contract, "10 %", Samples.Percent(1000), Samples.Now));

        Assert.Equal(DomainErrorKind.FailedPrecondition, error.Kind);
    }

    [Fact]
    public void OfferUnderAContractWhoseLastDayHasPassed_IsRefused_ThoughItsStoredStatusIsActive()
    {
        var bakery = Samples.Bakery();
        var contract = Contract.Create("contrat-2025", Samples.Club(), bakery, null, new DateOnly(2025, 1, 1), new DateOnly(2025, 12, 31), [], Samples.Now);

        var error = Assert.Throws<DomainException>(() => Offer.Create("pain-10", contract, "10 %", Samples.Percent(1000), Samples.Now));

        Assert.Equal(ContractStatus.Active, contract.Status);
        Assert.Equal((DomainErrorKind.FailedPrecondition, "contractId"), (error.Kind, error.Field));
    }
}

public sealed class CapAndEligibilityRuleTests
{
    [Fact]
    public void CountCap_AllowsUpToTheCapThenRefuses()
    {
        var terms = Samples.Fixed(10) with { CapCountPerPeriod = 2 };

        Assert.True(CapRules.Allows(terms, new PeriodUsage(1, Money.FromEuros(10)), Money.FromEuros(10)));
        Assert.False(CapRules.Allows(terms, new PeriodUsage(2, Money.FromEuros(20)), Money.FromEuros(10)));
    }

    [Fact]
    public void AmountCap_CountsTheNewDiscount()
    {
        var terms = Samples.Percent(1000) with { CapAmountPerPeriod = Money.FromEuros(20) };

        Assert.True(CapRules.Allows(terms, new PeriodUsage(5, Money.FromEuros(15)), Money.FromEuros(5)));
        Assert.False(CapRules.Allows(terms, new PeriodUsage(5, Money.FromEuros(15)), new Money(501)));
    }

    [Fact]
    public void NoCaps_AllowEverything()
    {
        Assert.True(CapRules.Allows(Samples.Fixed(10), new PeriodUsage(1_000, Money.FromEuros(10_000)), Money.FromEuros(10)));
    }

    [Fact]
    public void MembersOnlyOffer_RefusesNonMembersAndHouseholdsThatLeft()
    {
        var household = Samples.Household();
        Assert.Null(EligibilityRules.Check(Samples.Fixed(10), household, isClubMember: true));
        Assert.Equal(RejectionReason.NotAMember, EligibilityRules.Check(Samples.Fixed(10), household, isClubMember: false));

        household.Update(household.Rooms, household.InQpv, HouseholdStatus.Left, Samples.Now);
        Assert.Equal(RejectionReason.NotAMember, EligibilityRules.Check(Samples.Fixed(10), household, isClubMember: true));
    }

    [Fact]
    public void OfferNotMembersOnly_IsOpenToTenantsOfTheClubsLandlords_NotToOtherHouseholds_WhoseConditionsAreNotTold()
    {
        var terms = Samples.Fixed(10) with { MembersOnly = false, QpvOnly = true };
        var inQpv = Samples.Household(inQpv: true);

        Assert.Null(EligibilityRules.Check(terms, inQpv, isClubMember: false, isClubTenant: true));
        Assert.Null(EligibilityRules.Check(terms, inQpv, isClubMember: true));
        Assert.Equal(RejectionReason.NotEligible, EligibilityRules.Check(terms, Samples.Household(inQpv: false), isClubMember: false, isClubTenant: true));
        // A household of a landlord outside the club: refused before its QPV flag is looked at, whatever that flag.
        Assert.Equal(RejectionReason.NotAMember, EligibilityRules.Check(terms, inQpv, isClubMember: false, isClubTenant: false));
        Assert.Equal(RejectionReason.NotAMember, EligibilityRules.Check(terms, Samples.Household(inQpv: false), isClubMember: false, isClubTenant: false));
    }

    [Fact]
    public void RoomsRangeAndQpv_RestrictEligibility()
    {
        var terms = Samples.Fixed(10) with { MinRooms = 2, MaxRooms = 4, QpvOnly = true };

        Assert.Null(EligibilityRules.Check(terms, Samples.Household(rooms: 2, inQpv: true), isClubMember: true));
        Assert.Equal(RejectionReason.NotEligible, EligibilityRules.Check(terms, Samples.Household(rooms: 1), isClubMember: true));
        Assert.Equal(RejectionReason.NotEligible, EligibilityRules.Check(terms, Samples.Household(rooms: 5), isClubMember: true));
        Assert.Equal(RejectionReason.NotEligible, EligibilityRules.Check(terms, Samples.Household(inQpv: false), isClubMember: true));
    }

    [Fact]
    public void Window_IncludesStartAndExcludesEnd()
    {
        var terms = Samples.Fixed(10) with { ValidUntil = Samples.Now };

        Assert.True(EligibilityRules.IsWithinWindow(terms, terms.ValidFrom));
        Assert.True(EligibilityRules.IsWithinWindow(terms, Samples.Now.AddTicks(-1)));
        Assert.False(EligibilityRules.IsWithinWindow(terms, Samples.Now));
        Assert.False(EligibilityRules.IsWithinWindow(terms, terms.ValidFrom.AddTicks(-1)));
    }
}

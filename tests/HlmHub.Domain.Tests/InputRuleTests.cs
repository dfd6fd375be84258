namespace HlmHub.Domain.Tests;

/// <summary>What the factories accept from an administrator: ids, names and titles, and the amounts of an offer.</summary>
public sealed class InputRuleTests
{
    private const string Siren = "732829320";

    [Theory]
    [InlineData("acme\n")] // $ in a pattern matches before a final line break: it let this through as a slug.
    [InlineData("acme\r\n")]
    [InlineData("\nacme")]
    public void AnIdWithALineBreak_IsNotASlug(string id)
    {
        var error = Assert.Throws<DomainException>(() => Landlord.Create(id, "Acme Habitat", Siren, Samples.Now));

        Assert.Equal((DomainErrorKind.InvalidArgument, "id"), (error.Kind, error.Field));
        Assert.Equal("acme", Landlord.Create("acme", "Acme Habitat", Siren, Samples.Now).Id);
    }

    [Fact]
    public void AClubIdWithALineBreak_InARosterChange_IsMalformed()
    {
        var change = new Roster.RosterChange(1, Roster.RosterChangeKind.Upsert, "REF-1", 1, 3, false, ["club-plaine-commune\n"]);

        Assert.Equal(Roster.RosterRejection.Malformed, Roster.RosterRules.CheckShape(change)?.Rejection);
    }

    [Theory]
    [InlineData("Habitat\0Exemple")] // PostgreSQL cannot store a NUL: the admin call failed INTERNAL.
    [InlineData("Habitat\u0001Exemple")]
    [InlineData("Habitat\nExemple")]
    [InlineData("Habitat\tExemple")]
    public void ANameOrTitleWithAControlCharacter_IsRefusedNamingTheField(string text)
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");

        var landlord = Assert.Throws<DomainException>(() => Landlord.Create("acme", text, Siren, Samples.Now));
        var club = Assert.Throws<DomainException>(() => Club.Create("club-acme", text, "acme", ClubKind.TenantClub, null, Samples.Now));
        var partner = Assert.Throws<DomainException>(() => Partner.Create("fleuriste", text, PartnerKind.Merchant, null, "55210055400013", false, Samples.Now));
        var offer = Assert.Throws<DomainException>(() => Offer.Create("pain-10", contract, text, Samples.Percent(1000), Samples.Now));

        Assert.All(new[] { landlord, club, partner }, error => Assert.Equal((DomainErrorKind.InvalidArgument, "name"), (error.Kind, error.Field)));
        Assert.Equal((DomainErrorKind.InvalidArgument, "title"), (offer.Kind, offer.Field));
        Assert.Contains("control character", landlord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANameWithSpacesAround_IsTrimmed_AndOneWithAccentsAndPunctuationIsKept()
    {
        Assert.Equal("Office Public de l'Habitat – Saint-Denis", Landlord.Create("oph", "  Office Public de l'Habitat – Saint-Denis\n", Siren, Samples.Now).Name);
    }

    [Fact]
    public void ARoomTariffAboveTheAmountLimit_IsRefused_ThoughItsSavingCouldNeverBeClaimed()
    {
        var terms = Samples.Insurance() with { RoomTariffs = [new RoomTariff(3, Money.Zero, new Money(2_000_000_001))] };

        var error = Assert.Throws<DomainException>(terms.Validate);

        Assert.Equal((DomainErrorKind.InvalidArgument, "roomTariffs.publicPremium"), (error.Kind, error.Field));
        Assert.Contains("1000000000", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fixedDiscount")]
    [InlineData("percentCap")]
    [InlineData("roomTariffs.negotiatedPremium")]
    [InlineData("servicePrice")]
    [InlineData("capAmountPerPeriod")]
    public void EveryAmountOfAnOffer_IsBoundedByTheAmountLimit(string field)
    {
        var over = new Money(Limits.MaxAmountCents + 1);
        var terms = field switch
        {
            "fixedDiscount" => Samples.Fixed(10) with { FixedDiscount = over },
            "percentCap" => Samples.Percent(1000, over.Cents),
            "roomTariffs.negotiatedPremium" => Samples.Insurance() with { RoomTariffs = [new RoomTariff(2, over, over)] },
            "servicePrice" => new OfferTerms { Kind = OfferKind.ServicePrice, ServicePrice = over, ValidFrom = Samples.Now },
            _ => Samples.Fixed(10) with { CapAmountPerPeriod = over },
        };

        var error = Assert.Throws<DomainException>(terms.Validate);

        Assert.Equal((DomainErrorKind.InvalidArgument, field), (error.Kind, error.Field));
    }

    [Fact]
    public void AmountsAtTheLimit_AreAccepted()
    {
        var limit = new Money(Limits.MaxAmountCents);

        (Samples.Fixed(10) with { FixedDiscount = limit, CapAmountPerPeriod = limit }).Validate();
        Samples.Percent(1000, Limits.MaxAmountCents).Validate();
        (Samples.Insurance() with { RoomTariffs = [new RoomTariff(3, Money.Zero, limit)] }).Validate();
        new OfferTerms { Kind = OfferKind.ServicePrice, ServicePrice = limit, ValidFrom = Samples.Now }.Validate();
    }
}

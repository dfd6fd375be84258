using HlmHub.Domain;

namespace HlmHub.Server.Features.Demo;

/// <summary>
/// What the demo contains, after the programmes in ../shared/seeds: Plaine Commune Habitat's tenants' club,
/// extended to a neighbouring landlord, with an insurer priced by rooms, a driving school, a bakery and one
/// plumber. Identifiers are fixed so a second seed finds what the first one wrote.
/// </summary>
internal static class DemoData
{
    public const string HostLandlordId = "plaine-commune-habitat";
    public const string NeighbourLandlordId = "seine-saint-denis-habitat";
    public const string ClubId = "club-des-locataires-plaine-commune";

    public const string InsurerId = "mutuelle-habitat-solidaire";
    public const string DrivingSchoolId = "auto-ecole-du-canal";
    public const string BakeryId = "boulangerie-de-la-place";
    public const string PlumberId = "plomberie-saint-denis";

    /// <summary>Households on the host landlord's roster: 300.</summary>
    public const int HostHouseholds = 300;

    /// <summary>Households on the neighbouring landlord's roster: 60.</summary>
    public const int NeighbourHouseholds = 60;

    public static readonly (string Id, string Name, string Siren, string ReferencePrefix)[] Landlords =
    [
        (HostLandlordId, "Plaine Commune Habitat", "279300016", "PCH-"),
        (NeighbourLandlordId, "Seine-Saint-Denis Habitat", "392930012", "SSDH-"),
    ];

    public static readonly (string Id, string Name, PartnerKind Kind, string? Trade, string Siret, bool InQpv)[] Partners =
    [
        (InsurerId, "Mutuelle Habitat Solidaire", PartnerKind.Insurer, null, "44873001000122", false),
        (DrivingSchoolId, "Auto-école du Canal", PartnerKind.Merchant, null, "51234001900011", true),
        (BakeryId, "Boulangerie de la Place", PartnerKind.Merchant, null, "52345001300017", true),
        (PlumberId, "Plomberie Saint-Denis", PartnerKind.BuildingTrade, "plumber", "53456001600014", true),
    ];

    /// <summary>The contract id of a partner's contract with the demo club.</summary>
    public static string ContractIdOf(string partnerId) => $"{ClubId}-{partnerId}";

    /// <summary>The demo offers: (offer id, partner id, title, terms valid from <paramref name="validFrom"/>).</summary>
    public static IEnumerable<(string Id, string PartnerId, string Title, OfferTerms Terms)> Offers(DateTimeOffset validFrom)
    {
        // Home insurance premiums per year by number of rooms only (not family or floor), about 150 EUR saved.
        yield return ("assurance-habitat-par-pieces", InsurerId, "Home insurance at the club's tariff", new OfferTerms
        {
            Kind = OfferKind.RoomTariff,
            RoomTariffs = [.. Enumerable.Range(1, 7).Select(rooms => new RoomTariff(
                rooms, Money.FromEuros(70 + (20 * rooms)), Money.FromEuros(200 + (30 * rooms))))],
            ValidFrom = validFrom,
            CapCountPerPeriod = 1,
        });
        yield return ("permis-100-euros", DrivingSchoolId, "100 EUR off the driving licence", new OfferTerms
        {
            Kind = OfferKind.FixedDiscount,
            FixedDiscount = Money.FromEuros(100),
            ValidFrom = validFrom,
            CapCountPerPeriod = 1,
        });
        yield return ("pain-10-pourcent", BakeryId, "10 % off at the bakery (up to 5 EUR)", new OfferTerms
        {
            Kind = OfferKind.PercentDiscount,
            PercentBasisPoints = 1_000,
            PercentCap = Money.FromEuros(5),
            CapAmountPerPeriod = Money.FromEuros(20),
            ValidFrom = validFrom,
        });
        yield return ("plombier-deplacement-offert", PlumberId, "Call-out fee waived (30 EUR)", new OfferTerms
        {
            Kind = OfferKind.FixedDiscount,
            FixedDiscount = Money.FromEuros(30),
            ValidFrom = validFrom,
            CapCountPerPeriod = 2,
        });
    }

    /// <summary>A household's rooms and QPV flag, spread like a real estate: mostly 2 to 4 rooms, most in QPV.</summary>
    public static (int Rooms, bool InQpv) HouseholdProfile(int index) =>
        (index % 10) switch
        {
            0 => (1, true),
            1 or 2 => (2, true),
            3 or 4 or 5 => (3, index % 3 != 0),
            6 or 7 => (4, true),
            8 => (5, false),
            _ => (6 + (index % 2), false),
        };

    /// <summary>About two thirds of the host's households and half of the neighbour's opted in to the club.</summary>
    public static bool JoinsClub(string landlordId, int index) =>
        landlordId == HostLandlordId ? index % 3 != 2 : index % 2 == 0;
}

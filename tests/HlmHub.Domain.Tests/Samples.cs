using HlmHub.Domain;

namespace HlmHub.Domain.Tests;

/// <summary>Realistic sample entities (Plaine Commune's club) for the rule tests.</summary>
internal static class Samples
{
    public static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    public static Club Club() =>
        Domain.Club.Create("club-plaine-commune", "Club des locataires", "plaine-commune-habitat", ClubKind.TenantClub, null, Now);

    public static Partner Plumber(string id = "plomberie-dupont") =>
        Partner.Create(id, "Plomberie Dupont", PartnerKind.BuildingTrade, "Plumber", "55210055400013", inQpv: true, Now);

    public static Partner Bakery() =>
        Partner.Create("boulangerie-du-canal", "Boulangerie du canal", PartnerKind.Merchant, null, "73282932000074", inQpv: true, Now);

    public static Contract ContractFor(Partner partner, string id) =>
        Contract.Create(id, Club(), partner, null, new DateOnly(2026, 1, 1), null, [], Now);

    public static Household Household(int rooms = 3, bool inQpv = true) =>
        Domain.Household.Create(Guid.NewGuid(), "plaine-commune-habitat", "REF-42", "mt_token", rooms, inQpv, Now);

    public static OfferTerms Fixed(long euros) => new()
    {
        Kind = OfferKind.FixedDiscount,
        FixedDiscount = Money.FromEuros(euros),
        ValidFrom = Now.AddDays(-30),
    };

    public static OfferTerms Percent(int basisPoints, long? capCents = null) => new()
    {
        Kind = OfferKind.PercentDiscount,
        PercentBasisPoints = basisPoints,
        PercentCap = capCents is { } cap ? new Money(cap) : null,
        ValidFrom = Now.AddDays(-30),
    };

    public static OfferTerms Insurance() => new()
    {
        Kind = OfferKind.RoomTariff,
        RoomTariffs =
        [
            new RoomTariff(1, Money.FromEuros(90), Money.FromEuros(210)),
            new RoomTariff(3, Money.FromEuros(130), Money.FromEuros(280)),
        ],
        ValidFrom = Now.AddDays(-30),
    };
}

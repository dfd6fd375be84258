using HlmHub.Contracts.V1;

namespace HlmHub.Server.Tests.Infrastructure;

/// <summary>
/// Valid, unique requests for tests sharing one hub: every id, SIREN and SIRET is new, so tests never collide.
/// </summary>
internal static class SampleData
{
    private static int _sequence;

    /// <summary>A new slug, e.g. <c>landlord-12-3f9a1c</c>.</summary>
    public static string Slug(string prefix) =>
        $"{prefix}-{Interlocked.Increment(ref _sequence)}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>A new 9-digit SIREN with a valid Luhn key.</summary>
    public static string Siren() => SampleWorld.Siren();

    /// <summary>A new 14-digit SIRET with a valid Luhn key.</summary>
    public static string Siret() => SampleWorld.Siret();

    /// <summary>A SIREN whose Luhn key is wrong.</summary>
    public static string InvalidSiren()
    {
        var valid = Siren();
        return valid[..8] + (char)('0' + ((valid[8] - '0' + 1) % 10));
    }

    public static CreateLandlordRequest Landlord() => new() { Id = Slug("landlord"), Name = "Office Public de l'Habitat", Siren = Siren() };

    public static CreateClubRequest Club(string hostLandlordId) => new()
    {
        Id = Slug("club"),
        Name = "Club des locataires",
        HostLandlordId = hostLandlordId,
        Kind = ClubKind.TenantClub,
    };

    public static CreatePartnerRequest Plumber() => new()
    {
        Id = Slug("plumber"),
        Name = "Plomberie du Canal",
        Kind = PartnerKind.BuildingTrade,
        Trade = "plumber",
        Siret = Siret(),
        InQpv = true,
    };

    public static CreatePartnerRequest Bakery() => new()
    {
        Id = Slug("bakery"),
        Name = "Boulangerie de la Gare",
        Kind = PartnerKind.Merchant,
        Siret = Siret(),
        InQpv = true,
    };

    public static CreateContractRequest Contract(string clubId, string partnerId) => new()
    {
        Id = Slug("contract"),
        ClubId = clubId,
        PartnerId = partnerId,
        StartDate = "2026-01-01",
    };

    public static OfferTerms TenPercentCappedAt(long capCents) => new()
    {
        Kind = OfferKind.PercentDiscount,
        PercentBasisPoints = 1_000,
        PercentCapCents = capCents,
    };
}

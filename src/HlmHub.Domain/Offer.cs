namespace HlmHub.Domain;

/// <summary>How an offer's value to the member is computed.</summary>
public enum OfferKind
{
    /// <summary>A fixed amount off (e.g. 100 EUR off a driving licence), never more than the purchase.</summary>
    FixedDiscount,

    /// <summary>A percentage off, optionally capped (e.g. 10 % at a bakery).</summary>
    PercentDiscount,

    /// <summary>A negotiated price by number of rooms against the public price (home insurance).</summary>
    RoomTariff,

    /// <summary>A service at a set price (conciergerie): no discount, the price is what the member pays.</summary>
    ServicePrice,
}

/// <summary>The negotiated and public yearly premiums for one number of rooms.</summary>
public readonly record struct RoomTariff(int Rooms, Money NegotiatedPremium, Money PublicPremium)
{
    /// <summary>What the member saves: the public premium less the negotiated one.</summary>
    public Money Saving => PublicPremium - NegotiatedPremium;
}

/// <summary>
/// The terms of one version of an offer: value, validity window (<see cref="ValidUntil"/> exclusive), caps per
/// household per period (a calendar month in Paris) and eligibility. Validated by <see cref="Validate"/>.
/// </summary>
public sealed record OfferTerms
{
    /// <summary>The kind of offer.</summary>
    public required OfferKind Kind { get; init; }

    /// <summary>The amount off, for <see cref="OfferKind.FixedDiscount"/>.</summary>
    public Money? FixedDiscount { get; init; }

    /// <summary>The percentage in basis points (1000 = 10 %), for <see cref="OfferKind.PercentDiscount"/>.</summary>
    public int? PercentBasisPoints { get; init; }

    /// <summary>The most a percent discount gives per redemption, if capped.</summary>
    public Money? PercentCap { get; init; }

    /// <summary>The tariffs by rooms, for <see cref="OfferKind.RoomTariff"/>.</summary>
    public IReadOnlyList<RoomTariff> RoomTariffs { get; init; } = [];

    /// <summary>The price of the service, for <see cref="OfferKind.ServicePrice"/>.</summary>
    public Money? ServicePrice { get; init; }

    /// <summary>First instant the offer can be used.</summary>
    public required DateTimeOffset ValidFrom { get; init; }

    /// <summary>First instant the offer can no longer be used; null when open-ended.</summary>
    public DateTimeOffset? ValidUntil { get; init; }

    /// <summary>At most this many redemptions per household per period.</summary>
    public int? CapCountPerPeriod { get; init; }

    /// <summary>At most this much discount per household per period.</summary>
    public Money? CapAmountPerPeriod { get; init; }

    /// <summary>Only households that are members of the club (the default).</summary>
    public bool MembersOnly { get; init; } = true;

    /// <summary>Only households with at least this many rooms.</summary>
    public int? MinRooms { get; init; }

    /// <summary>Only households with at most this many rooms.</summary>
    public int? MaxRooms { get; init; }

    /// <summary>Only households living in a priority neighbourhood (QPV).</summary>
    public bool QpvOnly { get; init; }

    /// <summary>The share of each discount the club funds, in basis points (0 to 10,000).</summary>
    public int ClubFundedBasisPoints { get; init; }

    /// <summary>
    /// Checks the terms are complete and consistent, every amount within <see cref="Limits.MaxAmountCents"/>; throws
    /// naming the field otherwise.
    /// </summary>
    public OfferTerms Validate()
    {
        Require.Defined("kind", Kind);
        RequireOnlyFor(OfferKind.FixedDiscount, "fixedDiscount", FixedDiscount is not null);
        RequireOnlyFor(OfferKind.PercentDiscount, "percentBasisPoints", PercentBasisPoints is not null);
        RequireOnlyFor(OfferKind.RoomTariff, "roomTariffs", RoomTariffs.Count > 0);
        RequireOnlyFor(OfferKind.ServicePrice, "servicePrice", ServicePrice is not null);
        if (PercentCap is not null && Kind != OfferKind.PercentDiscount)
        {
            throw DomainException.Invalid("percentCap", "is only for percent-discount offers");
        }

        if (FixedDiscount is { } fixedDiscount)
        {
            Require.Amount("fixedDiscount", fixedDiscount);
        }

        if (PercentBasisPoints is { } basisPoints)
        {
            Require.InRange("percentBasisPoints", basisPoints, 1, 10_000);
        }

        if (PercentCap is { } cap)
        {
            Require.Amount("percentCap", cap);
        }

        if (ServicePrice is { } price)
        {
            Require.Amount("servicePrice", price, zeroAllowed: true);
        }

        ValidateRoomTariffs();
        if (ValidUntil is { } until && until <= ValidFrom)
        {
            throw DomainException.Invalid("validUntil", "must be after validFrom");
        }

        if (CapCountPerPeriod is { } count)
        {
            Require.InRange("capCountPerPeriod", count, 1, int.MaxValue);
        }

        if (CapAmountPerPeriod is { } amount)
        {
            Require.Amount("capAmountPerPeriod", amount);
        }

        if (MinRooms is { } minimum)
        {
            Require.InRange("minRooms", minimum, Limits.MinRooms, Limits.MaxRooms);
        }

        if (MaxRooms is { } maximum)
        {
            Require.InRange("maxRooms", maximum, MinRooms ?? Limits.MinRooms, Limits.MaxRooms);
        }

        Require.InRange("clubFundedBasisPoints", ClubFundedBasisPoints, 0, 10_000);
        return this;
    }

    private void RequireOnlyFor(OfferKind kind, string field, bool present)
    {
        if (Kind == kind && !present)
        {
            throw DomainException.Invalid(field, $"is required for a {kind} offer");
        }

        if (Kind != kind && present)
        {
            throw DomainException.Invalid(field, $"is only for {kind} offers");
        }
    }

    private void ValidateRoomTariffs()
    {
        var seen = new HashSet<int>();
        foreach (var tariff in RoomTariffs)
        {
            Require.InRange("roomTariffs.rooms", tariff.Rooms, Limits.MinRooms, Limits.MaxRooms);
            if (!seen.Add(tariff.Rooms))
            {
                throw DomainException.Invalid("roomTariffs.rooms", "must not repeat a number of rooms");
            }

            Require.Amount("roomTariffs.negotiatedPremium", tariff.NegotiatedPremium, zeroAllowed: true);
            Require.Amount("roomTariffs.publicPremium", tariff.PublicPremium, zeroAllowed: true);
            if (tariff.PublicPremium < tariff.NegotiatedPremium)
            {
                throw DomainException.Invalid("roomTariffs.publicPremium", "must not be below the negotiated premium");
            }
        }
    }
}

/// <summary>
/// A partner's offer to a club's members, under a contract. Its terms live in numbered versions; a change makes
/// a new version, so a version that has been redeemed is never edited (the database refuses it too).
/// </summary>
public sealed class Offer
{
    private Offer()
    {
        Id = "";
        ContractId = "";
        ClubId = "";
        PartnerId = "";
        Title = "";
    }

    /// <summary>The slug id.</summary>
    public string Id { get; private set; }

    /// <summary>The contract the offer is made under.</summary>
    public string ContractId { get; private set; }

    /// <summary>The club (from the contract).</summary>
    public string ClubId { get; private set; }

    /// <summary>The partner (from the contract).</summary>
    public string PartnerId { get; private set; }

    /// <summary>What members see, e.g. "100 EUR off the driving licence".</summary>
    public string Title { get; private set; }

    /// <summary>The version in force for new redemptions.</summary>
    public int CurrentVersion { get; private set; }

    /// <summary>When the offer was withdrawn; a withdrawn offer cannot be redeemed.</summary>
    public DateTimeOffset? WithdrawnAt { get; private set; }

    /// <summary>When the offer was created.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Creates an offer and its version 1.</summary>
    public static (Offer Offer, OfferVersion Version) Create(
        string id, Contract contract, string title, OfferTerms terms, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentNullException.ThrowIfNull(terms);
        // As of now, like every rule: a contract whose last day has passed has ended, whatever its stored status says.
        if (contract.StatusAt(at) == ContractStatus.Ended)
        {
            throw DomainException.Precondition("contractId", "the contract has ended");
        }

        var offer = new Offer
        {
            Id = Require.Slug("id", id),
            ContractId = contract.Id,
            ClubId = contract.ClubId,
            PartnerId = contract.PartnerId,
            Title = Require.Text("title", title, Limits.NameMaxLength),
            CurrentVersion = 1,
            CreatedAt = at,
        };
        return (offer, OfferVersion.Create(offer.Id, 1, terms, at));
    }

    /// <summary>Changes the terms: a new version becomes current; earlier versions stay as they were.</summary>
    public OfferVersion Revise(OfferTerms terms, DateTimeOffset at)
    {
        if (WithdrawnAt is not null)
        {
            throw DomainException.Precondition("offerId", "a withdrawn offer cannot be revised");
        }

        CurrentVersion = checked(CurrentVersion + 1);
        return OfferVersion.Create(Id, CurrentVersion, terms, at);
    }

    /// <summary>Withdraws the offer.</summary>
    public void Withdraw(DateTimeOffset at)
    {
        if (WithdrawnAt is not null)
        {
            throw DomainException.Precondition("offerId", "the offer is already withdrawn");
        }

        WithdrawnAt = at;
    }
}

/// <summary>One immutable version of an offer's terms.</summary>
public sealed class OfferVersion
{
    private OfferVersion()
    {
        OfferId = "";
        RoomTariffs = [];
    }

    /// <summary>The offer.</summary>
    public string OfferId { get; private set; }

    /// <summary>The version number, from 1.</summary>
    public int Version { get; private set; }

    /// <summary>See <see cref="OfferTerms.Kind"/>.</summary>
    public OfferKind Kind { get; private set; }

    /// <summary>See <see cref="OfferTerms.FixedDiscount"/>.</summary>
    public Money? FixedDiscount { get; private set; }

    /// <summary>See <see cref="OfferTerms.PercentBasisPoints"/>.</summary>
    public int? PercentBasisPoints { get; private set; }

    /// <summary>See <see cref="OfferTerms.PercentCap"/>.</summary>
    public Money? PercentCap { get; private set; }

    /// <summary>See <see cref="OfferTerms.RoomTariffs"/>.</summary>
    public IReadOnlyList<RoomTariff> RoomTariffs { get; private set; }

    /// <summary>See <see cref="OfferTerms.ServicePrice"/>.</summary>
    public Money? ServicePrice { get; private set; }

    /// <summary>See <see cref="OfferTerms.ValidFrom"/>.</summary>
    public DateTimeOffset ValidFrom { get; private set; }

    /// <summary>See <see cref="OfferTerms.ValidUntil"/>.</summary>
    public DateTimeOffset? ValidUntil { get; private set; }

    /// <summary>See <see cref="OfferTerms.CapCountPerPeriod"/>.</summary>
    public int? CapCountPerPeriod { get; private set; }

    /// <summary>See <see cref="OfferTerms.CapAmountPerPeriod"/>.</summary>
    public Money? CapAmountPerPeriod { get; private set; }

    /// <summary>See <see cref="OfferTerms.MembersOnly"/>.</summary>
    public bool MembersOnly { get; private set; }

    /// <summary>See <see cref="OfferTerms.MinRooms"/>.</summary>
    public int? MinRooms { get; private set; }

    /// <summary>See <see cref="OfferTerms.MaxRooms"/>.</summary>
    public int? MaxRooms { get; private set; }

    /// <summary>See <see cref="OfferTerms.QpvOnly"/>.</summary>
    public bool QpvOnly { get; private set; }

    /// <summary>See <see cref="OfferTerms.ClubFundedBasisPoints"/>.</summary>
    public int ClubFundedBasisPoints { get; private set; }

    /// <summary>When this version was created.</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The terms of this version.</summary>
    public OfferTerms Terms => new()
    {
        Kind = Kind,
        FixedDiscount = FixedDiscount,
        PercentBasisPoints = PercentBasisPoints,
        PercentCap = PercentCap,
        RoomTariffs = RoomTariffs,
        ServicePrice = ServicePrice,
        ValidFrom = ValidFrom,
        ValidUntil = ValidUntil,
        CapCountPerPeriod = CapCountPerPeriod,
        CapAmountPerPeriod = CapAmountPerPeriod,
        MembersOnly = MembersOnly,
        MinRooms = MinRooms,
        MaxRooms = MaxRooms,
        QpvOnly = QpvOnly,
        ClubFundedBasisPoints = ClubFundedBasisPoints,
    };

    internal static OfferVersion Create(string offerId, int version, OfferTerms terms, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(terms);
        terms.Validate();
        return new OfferVersion
        {
            OfferId = offerId,
            Version = version,
            Kind = terms.Kind,
            FixedDiscount = terms.FixedDiscount,
            PercentBasisPoints = terms.PercentBasisPoints,
            PercentCap = terms.PercentCap,
            RoomTariffs = [.. terms.RoomTariffs.OrderBy(tariff => tariff.Rooms)],
            ServicePrice = terms.ServicePrice,
            ValidFrom = terms.ValidFrom,
            ValidUntil = terms.ValidUntil,
            CapCountPerPeriod = terms.CapCountPerPeriod,
            CapAmountPerPeriod = terms.CapAmountPerPeriod,
            MembersOnly = terms.MembersOnly,
            MinRooms = terms.MinRooms,
            MaxRooms = terms.MaxRooms,
            QpvOnly = terms.QpvOnly,
            ClubFundedBasisPoints = terms.ClubFundedBasisPoints,
            CreatedAt = at,
        };
    }
}

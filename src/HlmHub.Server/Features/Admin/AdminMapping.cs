using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using HlmHub.Domain;
using HlmHub.Identity;
using HlmHub.Storage.Identity;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Admin;

/// <summary>
/// Translates between the Admin API's messages and the domain. Input problems found here are reported like the
/// domain's own (a <see cref="DomainException"/> naming the proto field), so one interceptor maps them all.
/// </summary>
internal static class AdminMapping
{
    /// <summary>Dates travel as <c>yyyy-MM-dd</c>.</summary>
    public const string DateFormat = "yyyy-MM-dd";

    // ---- Enums (proto 0 = unspecified, always refused)

    public static ClubKind ToDomain(V1.ClubKind kind) => kind switch
    {
        V1.ClubKind.TenantClub => ClubKind.TenantClub,
        V1.ClubKind.Conciergerie => ClubKind.Conciergerie,
        _ => throw Invalid("kind", "must be CLUB_KIND_TENANT_CLUB or CLUB_KIND_CONCIERGERIE"),
    };

    public static V1.ClubKind ToProto(ClubKind kind) => kind switch
    {
        ClubKind.TenantClub => V1.ClubKind.TenantClub,
        ClubKind.Conciergerie => V1.ClubKind.Conciergerie,
        _ => V1.ClubKind.Unspecified,
    };

    public static PartnerKind ToDomain(V1.PartnerKind kind) => kind switch
    {
        V1.PartnerKind.Insurer => PartnerKind.Insurer,
        V1.PartnerKind.Merchant => PartnerKind.Merchant,
        V1.PartnerKind.Association => PartnerKind.Association,
        V1.PartnerKind.BuildingTrade => PartnerKind.BuildingTrade,
        V1.PartnerKind.Service => PartnerKind.Service,
        _ => throw Invalid("kind", "must be one of PARTNER_KIND_INSURER, _MERCHANT, _ASSOCIATION, _BUILDING_TRADE, _SERVICE"),
    };

    public static V1.PartnerKind ToProto(PartnerKind kind) => kind switch
    {
        PartnerKind.Insurer => V1.PartnerKind.Insurer,
        PartnerKind.Merchant => V1.PartnerKind.Merchant,
        PartnerKind.Association => V1.PartnerKind.Association,
        PartnerKind.BuildingTrade => V1.PartnerKind.BuildingTrade,
        PartnerKind.Service => V1.PartnerKind.Service,
        _ => V1.PartnerKind.Unspecified,
    };

    public static V1.ContractStatus ToProto(ContractStatus status) => status switch
    {
        ContractStatus.Active => V1.ContractStatus.Active,
        ContractStatus.Suspended => V1.ContractStatus.Suspended,
        ContractStatus.Ended => V1.ContractStatus.Ended,
        _ => V1.ContractStatus.Unspecified,
    };

    public static V1.FederationStatus ToProto(FederationStatus status) => status switch
    {
        FederationStatus.Proposed => V1.FederationStatus.Proposed,
        FederationStatus.Active => V1.FederationStatus.Active,
        FederationStatus.Ended => V1.FederationStatus.Ended,
        _ => V1.FederationStatus.Unspecified,
    };

    public static OfferKind ToDomain(V1.OfferKind kind) => kind switch
    {
        V1.OfferKind.FixedDiscount => OfferKind.FixedDiscount,
        V1.OfferKind.PercentDiscount => OfferKind.PercentDiscount,
        V1.OfferKind.RoomTariff => OfferKind.RoomTariff,
        V1.OfferKind.ServicePrice => OfferKind.ServicePrice,
        _ => throw Invalid("terms.kind", "must be one of OFFER_KIND_FIXED_DISCOUNT, _PERCENT_DISCOUNT, _ROOM_TARIFF, _SERVICE_PRICE"),
    };

    public static V1.OfferKind ToProto(OfferKind kind) => kind switch
    {
        OfferKind.FixedDiscount => V1.OfferKind.FixedDiscount,
        OfferKind.PercentDiscount => V1.OfferKind.PercentDiscount,
        OfferKind.RoomTariff => V1.OfferKind.RoomTariff,
        OfferKind.ServicePrice => V1.OfferKind.ServicePrice,
        _ => V1.OfferKind.Unspecified,
    };

    public static ClientKind ToDomain(V1.ClientKind kind) => kind switch
    {
        V1.ClientKind.Partner => ClientKind.Partner,
        V1.ClientKind.Landlord => ClientKind.Landlord,
        V1.ClientKind.Admin => ClientKind.Admin,
        _ => throw Invalid("kind", "must be CLIENT_KIND_PARTNER, CLIENT_KIND_LANDLORD or CLIENT_KIND_ADMIN"),
    };

    public static V1.ClientKind ToProto(ClientKind kind) => kind switch
    {
        ClientKind.Partner => V1.ClientKind.Partner,
        ClientKind.Landlord => V1.ClientKind.Landlord,
        ClientKind.Admin => V1.ClientKind.Admin,
        _ => V1.ClientKind.Unspecified,
    };

    // ---- Scalars

    public static DateOnly RequireDate(string field, string text) =>
        ParseDate(field, text) ?? throw Invalid(field, $"is required, written {DateFormat}");

    public static DateOnly? ParseDate(string field, string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return DateOnly.TryParseExact(text, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw Invalid(field, $"must be a date written {DateFormat}");
    }

    public static string Format(DateOnly? date) => date?.ToString(DateFormat, CultureInfo.InvariantCulture) ?? "";

    public static Guid RequireGuid(string field, string text) =>
        Guid.TryParse(text, out var id) ? id : throw Invalid(field, "must be a UUID");

    public static Timestamp? ToProto(DateTimeOffset? instant) => instant is { } value ? Timestamp.FromDateTimeOffset(value) : null;

    /// <summary>
    /// A timestamp sent by a client: INVALID_ARGUMENT naming <paramref name="field"/> when it is outside the range
    /// protobuf allows, or outside the years the hub books (<see cref="Period.Supports"/>), rather than a failed call.
    /// </summary>
    public static DateTimeOffset? ToDomain(string field, Timestamp? timestamp)
    {
        if (timestamp is null)
        {
            return null;
        }

        if (!ProtoTimestamps.IsValid(timestamp))
        {
            throw Invalid(field, "must be a valid timestamp");
        }

        var instant = timestamp.ToDateTimeOffset();
        return Period.Supports(instant) ? instant : throw Invalid(field, $"must fall in the years {Period.MinYear} to {Period.MaxYear}");
    }

    /// <summary>
    /// When an agreement or notice should end, as a client sent it: unset, or a valid instant before the years the hub
    /// books (the zero timestamp, 1970, which clients often send for "now"), is null: at once, since any such instant
    /// is in the past and the rpc ends the agreement at once for an end not in the future. Later instants are read as
    /// <see cref="ToDomain"/> reads them.
    /// </summary>
    public static DateTimeOffset? ToEnd(string field, Timestamp? timestamp) =>
        timestamp is not null && ProtoTimestamps.IsValid(timestamp) && timestamp.ToDateTimeOffset() < new Period(Period.MinYear, 1).StartUtc
            ? null
            : ToDomain(field, timestamp) is { } end ? AsStored(end) : null;

    /// <summary>
    /// <paramref name="instant"/> as the database keeps it: to the whole millisecond (UnixMillisecondsConverter). A
    /// rule that compares a sent instant with a stored one must see the one that will be stored: an end given below the
    /// millisecond and sent again was "later" than the end stored from it, and refused as pushing the end back.
    /// </summary>
    public static DateTimeOffset AsStored(DateTimeOffset instant) => DateTimeOffset.FromUnixTimeMilliseconds(instant.ToUnixTimeMilliseconds());

    public static Money? ToMoney(bool present, long cents) => present ? new Money(cents) : null;

    public static string OrEmpty(string? text) => text ?? "";

    public static string? NullIfEmpty(string text) => string.IsNullOrEmpty(text) ? null : text;

    /// <summary>
    /// An id a request names, before it is looked up: one holding a control character or a lone surrogate is no id the
    /// hub ever handed out, and PostgreSQL fails any query holding a NUL, so it is refused naming the field instead of
    /// failing the call INTERNAL. Any other unknown id stays for the lookup to answer NOT_FOUND.
    /// </summary>
    public static string LookupId(string field, string id) =>
        PrintableText.Is(id) ? id : throw Invalid(field, "must be printable text: it holds a control character (a NUL, a line break...)");

    public static DomainException Invalid(string field, string rule) => new(DomainErrorKind.InvalidArgument, field, rule);

    public static DomainException Precondition(string field, string rule) => new(DomainErrorKind.FailedPrecondition, field, rule);

    // ---- Entities

    public static V1.Landlord ToProto(Landlord landlord) => new()
    {
        Id = landlord.Id,
        Name = landlord.Name,
        Siren = landlord.Siren,
        CreatedAt = ToProto(landlord.CreatedAt),
    };

    public static V1.Club ToProto(Club club)
    {
        var message = new V1.Club
        {
            Id = club.Id,
            Name = club.Name,
            HostLandlordId = club.HostLandlordId,
            Kind = ToProto(club.Kind),
            CreatedAt = ToProto(club.CreatedAt),
        };
        if (club.MonthlySubscription is { } subscription)
        {
            message.MonthlySubscriptionCents = subscription.Cents;
        }

        return message;
    }

    /// <summary>The agreement as of <paramref name="now"/>: one whose notice ran out reads as ended.</summary>
    public static V1.FederationAgreement ToProto(FederationAgreement agreement, DateTimeOffset now) => new()
    {
        Id = agreement.Id.ToString(),
        ClubId = agreement.ClubId,
        LandlordId = agreement.LandlordId,
        Status = ToProto(agreement.StatusAt(now)),
        ProposedByLandlordId = agreement.ProposedByLandlordId,
        ProposedAt = ToProto(agreement.ProposedAt),
        AcceptedAt = ToProto(agreement.AcceptedAt),
        EndedAt = ToProto(agreement.EndedAt),
    };

    public static V1.Partner ToProto(Partner partner) => new()
    {
        Id = partner.Id,
        Name = partner.Name,
        Kind = ToProto(partner.Kind),
        Trade = OrEmpty(partner.Trade),
        Siret = partner.Siret,
        InQpv = partner.InQpv,
        CreatedAt = ToProto(partner.CreatedAt),
    };

    /// <summary>The contract as of <paramref name="now"/>: one past its last day in force reads as ended.</summary>
    public static V1.Contract ToProto(Contract contract, DateTimeOffset now) => new()
    {
        Id = contract.Id,
        ClubId = contract.ClubId,
        PartnerId = contract.PartnerId,
        Trade = OrEmpty(contract.Trade),
        YearlyFeeCents = contract.YearlyFee.Cents,
        StartDate = Format(contract.StartDate),
        EndDate = Format(contract.EndDate),
        Status = ToProto(contract.StatusAt(now)),
        CreatedAt = ToProto(contract.CreatedAt),
    };

    public static V1.Offer ToProto(Offer offer, OfferVersion current) => new()
    {
        Id = offer.Id,
        ContractId = offer.ContractId,
        ClubId = offer.ClubId,
        PartnerId = offer.PartnerId,
        Title = offer.Title,
        CurrentVersion = offer.CurrentVersion,
        Current = new V1.OfferVersion { Version = current.Version, Terms = ToProto(current.Terms), CreatedAt = ToProto(current.CreatedAt) },
        WithdrawnAt = ToProto(offer.WithdrawnAt),
        CreatedAt = ToProto(offer.CreatedAt),
    };

    public static V1.OfferTerms ToProto(OfferTerms terms)
    {
        var message = new V1.OfferTerms
        {
            Kind = ToProto(terms.Kind),
            ValidFrom = ToProto(terms.ValidFrom),
            ValidUntil = ToProto(terms.ValidUntil),
            MembersOnly = terms.MembersOnly,
            QpvOnly = terms.QpvOnly,
            ClubFundedBasisPoints = terms.ClubFundedBasisPoints,
        };
        if (terms.FixedDiscount is { } fixedDiscount)
        {
            message.FixedDiscountCents = fixedDiscount.Cents;
        }

        if (terms.PercentBasisPoints is { } basisPoints)
        {
            message.PercentBasisPoints = basisPoints;
        }

        if (terms.PercentCap is { } cap)
        {
            message.PercentCapCents = cap.Cents;
        }

        if (terms.ServicePrice is { } price)
        {
            message.ServicePriceCents = price.Cents;
        }

        if (terms.CapCountPerPeriod is { } count)
        {
            message.CapCountPerPeriod = count;
        }

        if (terms.CapAmountPerPeriod is { } amount)
        {
            message.CapAmountPerPeriodCents = amount.Cents;
        }

        if (terms.MinRooms is { } minRooms)
        {
            message.MinRooms = minRooms;
        }

        if (terms.MaxRooms is { } maxRooms)
        {
            message.MaxRooms = maxRooms;
        }

        message.RoomTariffs.AddRange(terms.RoomTariffs.Select(tariff => new V1.RoomTariff
        {
            Rooms = tariff.Rooms,
            NegotiatedPremiumCents = tariff.NegotiatedPremium.Cents,
            PublicPremiumCents = tariff.PublicPremium.Cents,
        }));
        return message;
    }

    /// <summary>The domain terms of a request; an unset <c>valid_from</c> means "from now".</summary>
    public static OfferTerms ToDomain(V1.OfferTerms? terms, DateTimeOffset now)
    {
        if (terms is null)
        {
            throw Invalid("terms", "is required");
        }

        return new OfferTerms
        {
            Kind = ToDomain(terms.Kind),
            FixedDiscount = ToMoney(terms.HasFixedDiscountCents, terms.FixedDiscountCents),
            PercentBasisPoints = terms.HasPercentBasisPoints ? terms.PercentBasisPoints : null,
            PercentCap = ToMoney(terms.HasPercentCapCents, terms.PercentCapCents),
            RoomTariffs = [.. terms.RoomTariffs.Select(tariff => new RoomTariff(
                tariff.Rooms, new Money(tariff.NegotiatedPremiumCents), new Money(tariff.PublicPremiumCents)))],
            ServicePrice = ToMoney(terms.HasServicePriceCents, terms.ServicePriceCents),
            ValidFrom = ToDomain("terms.valid_from", terms.ValidFrom) ?? now,
            ValidUntil = ToDomain("terms.valid_until", terms.ValidUntil),
            CapCountPerPeriod = terms.HasCapCountPerPeriod ? terms.CapCountPerPeriod : null,
            CapAmountPerPeriod = ToMoney(terms.HasCapAmountPerPeriodCents, terms.CapAmountPerPeriodCents),
            MembersOnly = !terms.HasMembersOnly || terms.MembersOnly,
            MinRooms = terms.HasMinRooms ? terms.MinRooms : null,
            MaxRooms = terms.HasMaxRooms ? terms.MaxRooms : null,
            QpvOnly = terms.QpvOnly,
            ClubFundedBasisPoints = terms.ClubFundedBasisPoints,
        };
    }

    public static V1.OAuthClient ToProto(ClientDescription client)
    {
        var message = new V1.OAuthClient
        {
            ClientId = client.ClientId,
            DisplayName = client.DisplayName,
            Kind = ToProto(client.Kind),
            PartnerId = OrEmpty(client.PartnerId),
            LandlordId = OrEmpty(client.LandlordId),
            ClubId = OrEmpty(client.ClubId),
            UsesPublicKey = client.UsesPublicKey,
            CreatedAt = ToProto(client.CreatedAt),
            DisabledAt = ToProto(client.DisabledAt),
        };
        message.Scopes.AddRange(client.AllowedScopes);
        return message;
    }
}

using System.Globalization;
using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Storage;

namespace HlmHub.TestSupport;

/// <summary>
/// Builds a small club world with ids unique to each call, so tests sharing one database per class never collide
/// (SIREN and SIRET are unique too, and generated with a valid Luhn key).
/// </summary>
public sealed class SampleWorld
{
    public static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];

    public SampleWorld()
    {
        Landlord = Domain.Landlord.Create("bailleur-" + _suffix, "Plaine Commune Habitat", Siren(), Now);
        Club = Domain.Club.Create("club-" + _suffix, "Club des locataires", Landlord.Id, ClubKind.TenantClub, null, Now);
        Household = Domain.Household.Create(Guid.NewGuid(), Landlord.Id, "REF-" + _suffix, "mt_" + _suffix, 3, true, Now);
        Bakery = Partner.Create("boulangerie-" + _suffix, "Boulangerie", PartnerKind.Merchant, null, Siret(), true, Now);
        BakeryContract = Contract.Create("contrat-boulangerie-" + _suffix, Club, Bakery, null, new DateOnly(2026, 1, 1), null, [], Now);
        (Offer, OfferVersion) = Domain.Offer.Create("pain-" + _suffix, BakeryContract, "10 % sur le pain", new OfferTerms
        {
            Kind = OfferKind.PercentDiscount,
            PercentBasisPoints = 1000,
            ValidFrom = Now.AddDays(-30),
            CapCountPerPeriod = 10,
        }, Now);
    }

    public Landlord Landlord { get; }

    public Club Club { get; }

    public Household Household { get; }

    public Partner Bakery { get; }

    public Contract BakeryContract { get; }

    public Offer Offer { get; }

    public OfferVersion OfferVersion { get; }

    public string Suffix => _suffix;

    /// <summary>A new 9-digit SIREN with a valid Luhn key.</summary>
    public static string Siren() => WithLuhnKey(RandomDigits(8));

    /// <summary>A new 14-digit SIRET with a valid Luhn key, whose first nine digits are a valid SIREN.</summary>
    public static string Siret() => WithLuhnKey(Siren() + RandomDigits(4));

    /// <summary>Adds the basics (landlord, club, household, bakery, its contract and offer) to a context.</summary>
    public void AddTo(HlmHubDbContext context)
    {
        context.AddRange(Landlord, Club, Household, Bakery, BakeryContract, Offer, OfferVersion);
    }

    public Partner Plumber(string name) =>
        Partner.Create($"{name}-{_suffix}", name, PartnerKind.BuildingTrade, "plumber", Siret(), false, Now);

    public Redemption AcceptedRedemption(string eventId)
    {
        var request = new RedemptionRequest(Bakery.Id, eventId, Offer.Id, Household.MemberToken, Now, new Money(2_500), new Money(250));
        var facts = new RedemptionFacts(Offer, OfferVersion, BakeryContract, Household, true, Domain.Rules.PeriodUsage.None);
        var decision = RedemptionRules.Decide(request, facts);
        if (decision.Outcome != RedemptionOutcome.Accepted)
        {
            throw new InvalidOperationException($"The sample redemption was {decision.Outcome}, not accepted.");
        }

        return Redemption.Record(Guid.NewGuid(), request, facts, decision, Period.Of(Now), Now);
    }

    public (LedgerAccount Debit, LedgerAccount Credit) FeeAccounts() =>
        (LedgerAccount.Create(Club.Id, AccountKind.FeesReceivable, Bakery.Id), LedgerAccount.Create(Club.Id, AccountKind.FeeRevenue));

    public LedgerTransaction FeeAccrual(string idempotencyKey) => LedgerTransaction.Create(
        Guid.NewGuid(),
        idempotencyKey,
        Club.Id,
        TransactionKind.FeeAccrual,
        Period.Of(Now),
        "Yearly fee",
        Now,
        Now,
        [
            Posting.Debit(LedgerAccount.IdFor(Club.Id, AccountKind.FeesReceivable, Bakery.Id), Money.FromEuros(100)),
            Posting.Credit(LedgerAccount.IdFor(Club.Id, AccountKind.FeeRevenue), Money.FromEuros(100)),
        ]);

    private static string RandomDigits(int count) =>
        string.Concat(Enumerable.Range(0, count).Select(_ => Random.Shared.Next(10).ToString(CultureInfo.InvariantCulture)));

    private static string WithLuhnKey(string digits)
    {
        for (var key = 0; key < 10; key++)
        {
            var candidate = digits + key.ToString(CultureInfo.InvariantCulture);
            if (BusinessIdentifiers.IsValidSiren(candidate) || BusinessIdentifiers.IsValidSiret(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No Luhn key found.");
    }
}

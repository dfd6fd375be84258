using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Domain.Rules;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;

namespace HlmHub.Reconciliation.Tests;

/// <summary>
/// A club's month written straight through the DbContext the way the redemption service books it: each accepted
/// redemption is a <see cref="Redemption.Record"/> plus its <see cref="RedemptionBooking.Transaction"/>, each
/// cancellation a <see cref="Redemption.Cancel"/> plus the reversal of the original's transaction. Two partners: a
/// bakery (10 % off bread, the partner funds it) and a driving school (100 EUR off lessons, half funded by the club).
/// A test builds a clean month with <see cref="CleanMonthAsync"/>, then breaks one thing.
/// </summary>
internal sealed class CraftedMonth
{
    public static readonly Period October = new(2026, 10);

    private static readonly DateTimeOffset Created = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly List<object> _pending = [];
    private readonly Dictionary<Guid, LedgerTransaction> _bookings = [];
    private int _sequence;

    public CraftedMonth()
    {
        World = new SampleWorld();
        var suffix = World.Suffix;
        Households = [.. Enumerable.Range(1, 3).Select(index =>
            Household.Create(Guid.NewGuid(), World.Landlord.Id, $"REF-{index}-{suffix}", $"mt_{index}_{suffix}", 3, false, Created))];
        DrivingSchool = Partner.Create("auto-ecole-" + suffix, "Auto-école", PartnerKind.Merchant, null, SampleWorld.Siret(), true, Created);
        BakeryContract = Contract.Create("c-boulangerie-" + suffix, World.Club, World.Bakery, null, new DateOnly(2026, 1, 1), null, [], Created);
        SchoolContract = Contract.Create("c-auto-ecole-" + suffix, World.Club, DrivingSchool, null, new DateOnly(2026, 3, 15), null, [], Created);
        (Bread, BreadVersion) = Offer.Create("pain-" + suffix, BakeryContract, "10 % sur le pain", new OfferTerms
        {
            Kind = OfferKind.PercentDiscount,
            PercentBasisPoints = 1000,
            ValidFrom = Created,
        }, Created);
        (Lessons, LessonsVersion) = Offer.Create("permis-" + suffix, SchoolContract, "100 EUR sur le permis", new OfferTerms
        {
            Kind = OfferKind.FixedDiscount,
            FixedDiscount = Money.FromEuros(100),
            ValidFrom = Created,
            ClubFundedBasisPoints = 5000,
        }, Created);
        _pending.AddRange([World.Landlord, World.Club, World.Bakery, DrivingSchool, BakeryContract, SchoolContract, Bread, BreadVersion, Lessons, LessonsVersion]);
        _pending.AddRange(Households);
        foreach (var account in RedemptionBooking.Accounts(World.Club.Id, World.Bakery.Id)
            .Concat(RedemptionBooking.Accounts(World.Club.Id, DrivingSchool.Id))
            .Concat(FeeBooking.Accounts(World.Club.Id, World.Bakery.Id))
            .Concat(FeeBooking.Accounts(World.Club.Id, DrivingSchool.Id))
            .DistinctBy(account => account.Id))
        {
            _pending.Add(account);
        }
    }

    public SampleWorld World { get; }

    public string ClubId => World.Club.Id;

    public Partner Bakery => World.Bakery;

    public Partner DrivingSchool { get; }

    public Contract BakeryContract { get; }

    public Contract SchoolContract { get; }

    public Offer Bread { get; }

    public OfferVersion BreadVersion { get; }

    public Offer Lessons { get; }

    public OfferVersion LessonsVersion { get; }

    public IReadOnlyList<Household> Households { get; }

    /// <summary>Instants spread over October in Paris (the 2nd to the 28th, at noon UTC).</summary>
    public static DateTimeOffset Day(int day) => new(2026, 10, day, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// An accepted redemption, booked in the ledger unless <paramref name="book"/> is false, in the month it happened
    /// unless <paramref name="bookedIn"/> says otherwise (as for a redemption that arrived after its month was closed).
    /// </summary>
    public Redemption Redeem(Offer offer, string eventId, DateTimeOffset occurredAt, long purchaseCents, int household = 0, bool book = true, Period? bookedIn = null)
    {
        var version = offer == Bread ? BreadVersion : LessonsVersion;
        var contract = offer == Bread ? BakeryContract : SchoolContract;
        var member = Households[household];
        var terms = version.Terms;
        var computed = DiscountRules.Compute(terms, new Money(purchaseCents), member.Rooms)!.Value;
        var request = new RedemptionRequest(offer.PartnerId, eventId, offer.Id, member.MemberToken, occurredAt, new Money(purchaseCents), computed);
        var facts = new RedemptionFacts(offer, version, contract, member, true, PeriodUsage.None);
        var decision = RedemptionRules.Decide(request, facts);
        if (decision.Outcome != RedemptionOutcome.Accepted)
        {
            throw new InvalidOperationException($"The crafted redemption was {decision.Outcome} ({decision.Reason}).");
        }

        var redemption = Redemption.Record(Guid.NewGuid(), request, facts, decision, bookedIn ?? Period.Of(occurredAt), occurredAt.AddSeconds(1));
        _pending.Add(redemption);
        if (book && RedemptionBooking.Transaction(Guid.NewGuid(), redemption, terms, occurredAt.AddSeconds(1)) is { } transaction)
        {
            _bookings[redemption.Id] = transaction;
            _pending.Add(transaction);
        }

        return redemption;
    }

    /// <summary>An accepted cancellation of <paramref name="original"/>, with the reversal of its booking.</summary>
    public Redemption Cancel(Redemption original, string eventId, DateTimeOffset occurredAt)
    {
        var cancellation = Redemption.Cancel(Guid.NewGuid(), eventId, original, false, occurredAt, Period.Of(occurredAt), occurredAt.AddSeconds(1));
        _pending.Add(cancellation);
        if (_bookings.TryGetValue(original.Id, out var booking))
        {
            _pending.Add(booking.Reverse(Guid.NewGuid(), cancellation.Period, $"Cancellation {eventId}", occurredAt.AddSeconds(1)));
        }

        return cancellation;
    }

    /// <summary>A partner's statement (the next revision); with <paramref name="eventIds"/> for event-level matching.</summary>
    public Statement Statement(Partner partner, int revision, IEnumerable<(Offer Offer, int Count, long Purchase, long Discount)> lines, IEnumerable<string>? eventIds = null, Period? period = null)
    {
        var statement = Domain.Statement.Submit(
            Guid.NewGuid(), partner.Id, ClubId, period ?? October, revision,
            lines.Select(line => (line.Offer.Id, line.Count, new Money(line.Purchase), new Money(line.Discount))),
            eventIds ?? [], new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero).AddMinutes(revision));
        _pending.Add(statement);
        return statement;
    }

    public void AccrueFee(Contract contract, DateOnly due) =>
        _pending.Add(FeeBooking.Accrual(Guid.NewGuid(), contract, due, new Period(due.Year, due.Month), Period.StartOfDayUtc(due)));

    public void PayFee(Contract contract, string reference, Money amount, DateOnly paidOn) => _pending.Add(LedgerTransaction.Create(
        Guid.NewGuid(),
        IdempotencyKeys.FeePayment(contract.Id, reference),
        ClubId,
        TransactionKind.FeePayment,
        new Period(paidOn.Year, paidOn.Month),
        "Fee payment " + reference,
        Period.StartOfDayUtc(paidOn),
        Period.StartOfDayUtc(paidOn),
        [
            Posting.Debit(LedgerAccount.IdFor(ClubId, AccountKind.Bank), amount),
            Posting.Credit(LedgerAccount.IdFor(ClubId, AccountKind.FeesReceivable, contract.PartnerId), amount),
        ]));

    public void SettleSubsidy(Partner partner, Money amount, DateTimeOffset at) => _pending.Add(LedgerTransaction.Create(
        Guid.NewGuid(),
        IdempotencyKeys.SubsidySettlement(ClubId, partner.Id, "virement-" + (++_sequence)),
        ClubId,
        TransactionKind.SubsidySettlement,
        Period.Of(at),
        "Subsidy paid to " + partner.Id,
        at,
        at,
        [
            Posting.Debit(LedgerAccount.IdFor(ClubId, AccountKind.SubsidyPayable, partner.Id), amount),
            Posting.Credit(LedgerAccount.IdFor(ClubId, AccountKind.Bank), amount),
        ]));

    /// <summary>A transaction of kind Redemption in October that no redemption produced.</summary>
    public void StrayRedemptionPosting(Partner partner, Money amount) => _pending.Add(LedgerTransaction.Create(
        Guid.NewGuid(),
        IdempotencyKeys.Redemption(Guid.NewGuid()),
        ClubId,
        TransactionKind.Redemption,
        October,
        "Stray posting",
        Day(20),
        Day(20),
        [
            Posting.Debit(LedgerAccount.IdFor(ClubId, AccountKind.DiscountsGranted, partner.Id), amount),
            Posting.Credit(LedgerAccount.IdFor(ClubId, AccountKind.TenantSavings), amount),
        ]));

    /// <summary>
    /// A month that reconciles: fees accrued and paid, bread redeemed three times (one cancelled), lessons once
    /// (its club share settled), and both partners' statements agreeing, the bakery's with its event ids.
    /// </summary>
    public (Redemption First, Redemption Second) CleanMonth()
    {
        AccrueFee(BakeryContract, new DateOnly(2026, 1, 1));
        PayFee(BakeryContract, "VIR-1", BakeryContract.YearlyFee, new DateOnly(2026, 1, 10));
        AccrueFee(SchoolContract, new DateOnly(2026, 3, 15));
        PayFee(SchoolContract, "VIR-2", SchoolContract.YearlyFee, new DateOnly(2026, 3, 20));
        var first = Redeem(Bread, "b-1", Day(2), 2_000);
        var second = Redeem(Bread, "b-2", Day(5), 3_000, household: 1);
        var third = Redeem(Bread, "b-3", Day(9), 1_000, household: 2);
        Cancel(third, "b-3-cancel", Day(10));
        Redeem(Lessons, "l-1", Day(12), 150_000);
        SettleSubsidy(DrivingSchool, Money.FromEuros(50), Day(28));
        // Net of cancellations: bread 2 redemptions (3 events less 1 cancellation), 50.00 of purchases, 5.00 off.
        Statement(Bakery, 1, [(Bread, 2, 5_000, 500)], ["b-1", "b-2", "b-3", "b-3-cancel"]);
        Statement(DrivingSchool, 1, [(Lessons, 1, 150_000, 10_000)]);
        return (first, second);
    }

    public async Task SaveAsync(IDbContextFactory<HlmHubDbContext> contexts)
    {
        await using var db = await contexts.CreateDbContextAsync(TestTimeouts.Token());
        db.AddRange(_pending);
        await db.SaveChangesAsync(TestTimeouts.Token());
        _pending.Clear();
    }
}

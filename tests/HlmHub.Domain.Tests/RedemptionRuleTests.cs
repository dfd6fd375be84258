using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Domain.Rules;

namespace HlmHub.Domain.Tests;

public sealed class RedemptionRuleTests
{
    private readonly Contract _contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");
    private readonly Offer _offer;
    private readonly OfferVersion _version;
    private readonly Household _household = Samples.Household();

    public RedemptionRuleTests()
    {
        (_offer, _version) = Offer.Create("pain-10", _contract, "10 % sur le pain",
            Samples.Percent(1000) with { CapCountPerPeriod = 3 }, Samples.Now.AddDays(-1));
    }

    [Fact]
    public void APercentDiscount_IsRoundedDownToTheCent_AndTheClaimMustMatchItExactly()
    {
        // The example of docs/redemptions.md ("Rounding") and of redemption.proto: 10 % of 2.55 EUR is 0.25 EUR.
        var exact = RedemptionRules.Decide(Request() with { PurchaseAmount = new Money(255), ClaimedDiscount = new Money(25) }, Facts());
        var roundedUp = RedemptionRules.Decide(Request() with { PurchaseAmount = new Money(255), ClaimedDiscount = new Money(26) }, Facts());

        Assert.Equal((RedemptionOutcome.Accepted, new Money(25)), (exact.Outcome, exact.ComputedDiscount));
        Assert.Equal((RejectionReason.DiscountMismatch, new Money(25)), (roundedUp.Reason, roundedUp.ComputedDiscount));
    }

    [Fact]
    public void ValidRedemption_IsAcceptedWithTheComputedDiscount()
    {
        var decision = RedemptionRules.Decide(Request(), Facts());

        Assert.Equal(RedemptionOutcome.Accepted, decision.Outcome);
        Assert.Null(decision.Reason);
        Assert.Equal(new Money(250), decision.ComputedDiscount);
    }

    [Fact]
    public void EachFailure_GetsItsReasonCode()
    {
        Assert.Equal(RejectionReason.Malformed, Reason(Request() with { PartnerEventId = "" }, Facts()));
        Assert.Equal(RejectionReason.Malformed, Reason(Request() with { PurchaseAmount = new Money(-1) }, Facts()));
        Assert.Equal(RejectionReason.NotYourOffer, Reason(Request() with { PartnerId = "autre-partenaire" }, Facts()));
        Assert.Equal(RejectionReason.NotYourOffer, Reason(Request(), Facts() with { Offer = null }));
        Assert.Equal(RejectionReason.OutsideWindow, Reason(Request() with { OccurredAt = Samples.Now.AddDays(-60) }, Facts()));
        Assert.Equal(RejectionReason.UnknownMember, Reason(Request(), Facts() with { Household = null }));
        Assert.Equal(RejectionReason.NotAMember, Reason(Request(), Facts() with { IsClubMember = false }));
        Assert.Equal(RejectionReason.DiscountMismatch, Reason(Request() with { ClaimedDiscount = new Money(300) }, Facts()));
        Assert.Equal(RejectionReason.CapExceeded, Reason(Request(), Facts() with { UsageInPeriod = new PeriodUsage(3, new Money(750)) }));
    }

    [Fact]
    public void SuspendedContract_IsReportedAsSuchAndEndedContractAsOfferNotActive()
    {
        _contract.Suspend(Samples.Now);
        Assert.Equal(RejectionReason.ContractSuspended, Reason(Request(), Facts()));

        _contract.End(new DateOnly(2026, 11, 21), Samples.Now);
        Assert.Equal(RejectionReason.OfferNotActive, Reason(Request(), Facts()));
    }

    [Fact]
    public void LateRedemptionFromTheContractsDaysInForce_GetsTheSameAnswerWhetherOrNotItsEndWasRecorded()
    {
        // Ended with notice on 12 November, last day 30 November; a sale of the 30th arrives in December.
        _contract.End(new DateOnly(2026, 11, 30), Samples.Now.AddDays(-10));
        var lastDaySale = Request() with { OccurredAt = new DateTimeOffset(2026, 11, 30, 11, 0, 0, TimeSpan.Zero) };
        var afterEnd = Samples.Now.AddDays(9);
        var afterLastDay = lastDaySale with { OccurredAt = lastDaySale.OccurredAt.AddDays(1) };
        Assert.Null(Reason(lastDaySale, Facts()));

        // Anything that records the end (any contract change in the club, the fee job) changes nothing for it.
        Assert.True(_contract.Settle(afterEnd));
        Assert.Equal(ContractStatus.Ended, _contract.Status);
        Assert.Null(Reason(lastDaySale, Facts()));
        Assert.Equal(RejectionReason.OfferNotActive, Reason(afterLastDay, Facts()));
    }

    [Fact]
    public void LateRedemptionFromTheDaysASuspendedContractWasInForce_StaysSuspendedAfterItsEnd()
    {
        _contract.Suspend(Samples.Now);
        _contract.End(new DateOnly(2026, 11, 30), Samples.Now);
        var sale = Request() with { OccurredAt = new DateTimeOffset(2026, 11, 30, 11, 0, 0, TimeSpan.Zero) };
        var afterEnd = Samples.Now.AddDays(9);

        Assert.False(_contract.Settle(afterEnd));
        Assert.Equal(ContractStatus.Ended, _contract.StatusAt(afterEnd));
        Assert.Equal(RejectionReason.ContractSuspended, Reason(sale, Facts()));
        Assert.Throws<DomainException>(() => _contract.Resume(afterEnd, []));
    }

    [Fact]
    public void RedemptionBeforeTheContractsFirstDay_IsOfferNotActive()
    {
        var beforeStart = Period.StartOfDayUtc(_contract.StartDate).AddMinutes(-1);

        Assert.Equal(RejectionReason.OfferNotActive, Reason(Request() with { OccurredAt = beforeStart }, Facts()));
        Assert.NotEqual(RejectionReason.OfferNotActive, Reason(Request() with { OccurredAt = beforeStart.AddMinutes(2) }, Facts()));
    }

    [Fact]
    public void WithdrawnOffer_IsNotActive()
    {
        _offer.Withdraw(Samples.Now);

        Assert.Equal(RejectionReason.OfferNotActive, Reason(Request(), Facts()));
    }

    [Fact]
    public void Cancellation_ReferencesTheOriginalAndCannotRepeat()
    {
        var decision = RedemptionRules.Decide(Request(), Facts());
        var original = Redemption.Record(Guid.NewGuid(), Request(), Facts(), decision, Period.Of(Samples.Now), Samples.Now);

        var cancellation = Redemption.Cancel(Guid.NewGuid(), "evt-2", original, alreadyCancelled: false, Samples.Now, Period.Of(Samples.Now), Samples.Now);

        Assert.Equal(RedemptionKind.Cancellation, cancellation.Kind);
        Assert.Equal(original.Id, cancellation.CancelsRedemptionId);
        Assert.Equal(original.ComputedDiscount, cancellation.ComputedDiscount);
        Assert.Throws<DomainException>(() =>
            Redemption.Cancel(Guid.NewGuid(), "evt-3", original, alreadyCancelled: true, Samples.Now, Period.Of(Samples.Now), Samples.Now));
        Assert.Throws<DomainException>(() =>
            Redemption.Cancel(Guid.NewGuid(), "evt-4", cancellation, alreadyCancelled: false, Samples.Now, Period.Of(Samples.Now), Samples.Now));
    }

    [Theory]
    [InlineData(" evt-5")]
    [InlineData("evt-5 ")]
    [InlineData("   ")]
    [InlineData("")]
    public void Cancellation_RefusesAnEventIdWithASpaceAtEitherEnd_RatherThanStoreItTrimmed(string eventId)
    {
        var original = Redemption.Record(Guid.NewGuid(), Request(), Facts(), RedemptionRules.Decide(Request(), Facts()), Period.Of(Samples.Now), Samples.Now);

        var refused = Assert.Throws<DomainException>(() =>
            Redemption.Cancel(Guid.NewGuid(), eventId, original, alreadyCancelled: false, Samples.Now, Period.Of(Samples.Now), Samples.Now));
        var kept = Redemption.Cancel(Guid.NewGuid(), "evt 5", original, alreadyCancelled: false, Samples.Now, Period.Of(Samples.Now), Samples.Now);

        Assert.Equal("partnerEventId", refused.Field);
        Assert.Equal("evt 5", kept.PartnerEventId);
    }

    [Fact]
    public void RejectedRedemptionForAnotherPartnersOffer_RecordsNoOffer()
    {
        var request = Request() with { PartnerId = "autre-partenaire" };
        var decision = RedemptionRules.Decide(request, Facts());

        var recorded = Redemption.Record(Guid.NewGuid(), request, Facts(), decision, Period.Of(Samples.Now), Samples.Now);

        Assert.Equal(RedemptionOutcome.Rejected, recorded.Outcome);
        Assert.Equal(RejectionReason.NotYourOffer, recorded.RejectionReason);
        Assert.Null(recorded.OfferId);
        Assert.Null(recorded.ClubId);
    }

    [Fact]
    public void AcceptedRedemption_IsBookedAsBalancedMemoEntriesPlusTheClubsShareWhenCoFunded()
    {
        var terms = _version.Terms with { ClubFundedBasisPoints = 4_000 };
        var decision = RedemptionRules.Decide(Request(), Facts());
        var redemption = Redemption.Record(Guid.NewGuid(), Request(), Facts(), decision, Period.Of(Samples.Now), Samples.Now);

        var transaction = RedemptionBooking.Transaction(Guid.NewGuid(), redemption, terms, Samples.Now)!;

        Assert.Equal(IdempotencyKeys.Redemption(redemption.Id), transaction.IdempotencyKey);
        Assert.Equal(TransactionKind.Redemption, transaction.Kind);
        var club = _offer.ClubId;
        var partner = _offer.PartnerId;
        Assert.Equal(
            [
                (LedgerAccount.IdFor(club, AccountKind.DiscountsGranted, partner), EntrySide.Debit, 250L),
                (LedgerAccount.IdFor(club, AccountKind.TenantSavings), EntrySide.Credit, 250L),
                (LedgerAccount.IdFor(club, AccountKind.SubsidyExpense), EntrySide.Debit, 100L),
                (LedgerAccount.IdFor(club, AccountKind.SubsidyPayable, partner), EntrySide.Credit, 100L),
            ],
            transaction.Entries.Select(entry => (entry.AccountId, entry.Side, entry.Amount.Cents)));
        Assert.All(transaction.Entries, entry => Assert.Contains(RedemptionBooking.Accounts(club, partner), account => account.Id == entry.AccountId));
    }

    [Fact]
    public void AcceptedRedemptionWithoutClubShare_PostsOnlyTheMemoPair_AndAZeroDiscountPostsNothing()
    {
        var decision = RedemptionRules.Decide(Request(), Facts());
        var redemption = Redemption.Record(Guid.NewGuid(), Request(), Facts(), decision, Period.Of(Samples.Now), Samples.Now);
        Assert.Equal(2, RedemptionBooking.Postings(redemption, _version.Terms).Count);

        var free = Request() with { PurchaseAmount = Money.Zero, ClaimedDiscount = Money.Zero };
        var freeRedemption = Redemption.Record(Guid.NewGuid(), free, Facts(), RedemptionRules.Decide(free, Facts()), Period.Of(Samples.Now), Samples.Now);
        Assert.Equal(RedemptionOutcome.Accepted, freeRedemption.Outcome);
        Assert.Null(RedemptionBooking.Transaction(Guid.NewGuid(), freeRedemption, _version.Terms, Samples.Now));
    }

    [Fact]
    public void RejectedRedemption_IsNotBooked()
    {
        var request = Request() with { ClaimedDiscount = new Money(1) };
        var rejected = Redemption.Record(Guid.NewGuid(), request, Facts(), RedemptionRules.Decide(request, Facts()), Period.Of(Samples.Now), Samples.Now);

        Assert.Throws<DomainException>(() => RedemptionBooking.Postings(rejected, _version.Terms));
    }

    private static RejectionReason? Reason(RedemptionRequest request, RedemptionFacts facts) =>
        RedemptionRules.Decide(request, facts).Reason;

    private RedemptionRequest Request() =>
        new(_offer.PartnerId, "evt-1", _offer.Id, _household.MemberToken, Samples.Now, new Money(2_500), new Money(250));

    private RedemptionFacts Facts() => new(_offer, _version, _contract, _household, IsClubMember: true, PeriodUsage.None);
}

using HlmHub.Domain;
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
        _contract.Suspend();
        Assert.Equal(RejectionReason.ContractSuspended, Reason(Request(), Facts()));

        _contract.End(new DateOnly(2026, 12, 31));
        Assert.Equal(RejectionReason.OfferNotActive, Reason(Request(), Facts()));
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

    private static RejectionReason? Reason(RedemptionRequest request, RedemptionFacts facts) =>
        RedemptionRules.Decide(request, facts).Reason;

    private RedemptionRequest Request() =>
        new(_offer.PartnerId, "evt-1", _offer.Id, _household.MemberToken, Samples.Now, new Money(2_500), new Money(250));

    private RedemptionFacts Facts() => new(_offer, _version, _contract, _household, IsClubMember: true, PeriodUsage.None);
}

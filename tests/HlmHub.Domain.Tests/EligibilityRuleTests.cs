using HlmHub.Domain.Rules;

namespace HlmHub.Domain.Tests;

/// <summary>The one club eligibility rule, and ends given with notice (agreements and contracts).</summary>
public sealed class EligibilityRuleTests
{
    private const string Host = "plaine-commune-habitat";
    private const string Neighbour = "seine-saint-denis-habitat";

    private static readonly ClubMemberFacts HostMember = new(Host, Host, HouseholdStatus.Active, HasMembership: true, MembershipLeftAt: null, null, null);

    [Fact]
    public void HostHouseholdThatOptedIn_IsEligible_AndLeavingInAnyWayMakesItIneligible()
    {
        Assert.True(ClubEligibility.IsEligible(HostMember, Samples.Now));
        Assert.False(ClubEligibility.IsEligible(HostMember with { HouseholdStatus = HouseholdStatus.Left }, Samples.Now));
        Assert.False(ClubEligibility.IsEligible(HostMember with { HasMembership = false }, Samples.Now));
        Assert.False(ClubEligibility.IsEligible(HostMember with { MembershipLeftAt = Samples.Now.AddDays(-1) }, Samples.Now));
    }

    [Fact]
    public void NeighbourHousehold_IsEligibleOnlyWhileItsLandlordsAgreementIsActive()
    {
        var neighbour = HostMember with { HouseholdLandlordId = Neighbour };

        Assert.False(ClubEligibility.IsEligible(neighbour, Samples.Now));
        Assert.False(ClubEligibility.IsEligible(neighbour with { AgreementStatus = FederationStatus.Proposed }, Samples.Now));
        Assert.True(ClubEligibility.IsEligible(neighbour with { AgreementStatus = FederationStatus.Active }, Samples.Now));
        var noticed = neighbour with { AgreementStatus = FederationStatus.Active, AgreementEndedAt = Samples.Now.AddHours(1) };
        Assert.True(ClubEligibility.IsEligible(noticed, Samples.Now));
        Assert.False(ClubEligibility.IsEligible(noticed, Samples.Now.AddHours(1)));
    }

    [Fact]
    public void ClubTenant_IsAnActiveHouseholdOfTheHostOrOfALandlordWithAnAgreementInForce_OptedInOrNot()
    {
        var hostTenant = HostMember with { HasMembership = false };
        var neighbourTenant = hostTenant with { HouseholdLandlordId = Neighbour };

        Assert.True(ClubEligibility.IsClubTenant(hostTenant, Samples.Now));
        Assert.False(ClubEligibility.IsClubTenant(hostTenant with { HouseholdStatus = HouseholdStatus.Left }, Samples.Now));
        Assert.False(ClubEligibility.IsClubTenant(neighbourTenant, Samples.Now));
        Assert.False(ClubEligibility.IsClubTenant(neighbourTenant with { AgreementStatus = FederationStatus.Proposed }, Samples.Now));
        Assert.True(ClubEligibility.IsClubTenant(neighbourTenant with { AgreementStatus = FederationStatus.Active }, Samples.Now));
    }

    [Fact]
    public void AgreementEndedWithNotice_StaysActiveUntilItsEnd_AndEndingAtOnceIsImmediate()
    {
        var club = Samples.Club();
        var agreement = FederationAgreement.Propose(Guid.NewGuid(), club, Neighbour, club.HostLandlordId, Samples.Now);
        agreement.Accept(club, Neighbour, Samples.Now);

        agreement.End(club, Neighbour, Samples.Now.AddDays(30), Samples.Now);
        Assert.Equal(FederationStatus.Active, agreement.StatusAt(Samples.Now.AddDays(29)));
        Assert.Equal(FederationStatus.Ended, agreement.StatusAt(Samples.Now.AddDays(30)));
        Assert.False(agreement.Settle(Samples.Now));
        Assert.True(agreement.Settle(Samples.Now.AddDays(31)));
        Assert.Equal(FederationStatus.Ended, agreement.Status);

        var other = FederationAgreement.Propose(Guid.NewGuid(), club, Neighbour, club.HostLandlordId, Samples.Now);
        other.Accept(club, Neighbour, Samples.Now);
        other.End(club, club.HostLandlordId, Samples.Now.AddDays(-3), Samples.Now);
        Assert.Equal((FederationStatus.Ended, Samples.Now), (other.Status, other.EndedAt));
    }

    [Fact]
    public void ContractEndDate_IsTheLastDayInForceInParis()
    {
        var contract = Samples.ContractFor(Samples.Bakery(), "contrat-boulangerie");

        contract.End(new DateOnly(2026, 11, 30), Samples.Now);

        Assert.Equal(ContractStatus.Active, contract.Status);
        // 30 November 22:59 UTC is 23:59 in Paris: still the last day; 23:00 UTC is already 1 December there.
        Assert.Equal(ContractStatus.Active, contract.StatusAt(new DateTimeOffset(2026, 11, 30, 22, 59, 0, TimeSpan.Zero)));
        Assert.Equal(ContractStatus.Ended, contract.StatusAt(new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero)));
        contract.End(new DateOnly(2026, 11, 21), Samples.Now);
        Assert.Equal(ContractStatus.Ended, contract.Status);
    }
}

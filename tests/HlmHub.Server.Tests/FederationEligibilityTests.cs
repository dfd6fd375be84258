using Grpc.Core;
using HlmHub.Contracts.V1;
using HlmHub.Server.Tests.Infrastructure;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Domain = HlmHub.Domain;

namespace HlmHub.Server.Tests;

/// <summary>The hub on SQLite, with Watch windows short enough for a test.</summary>
public sealed class EligibilitySqliteFixture : EligibilityHubFixture
{
    internal override TestProvider Provider => TestProvider.Sqlite;
}

/// <summary>The hub on PostgreSQL (HLMHUB_TEST_POSTGRES), with Watch windows short enough for a test.</summary>
public sealed class EligibilityPostgresFixture : EligibilityHubFixture
{
    internal override TestProvider Provider => TestProvider.Postgres;
}

/// <summary>One hub per test class, polling Watch every 100 ms with a 300 ms settle delay, pages of 2 households, 2 streams per partner.</summary>
public abstract class EligibilityHubFixture : IAsyncLifetime
{
    private TestDatabase? _database;

    internal abstract TestProvider Provider { get; }

    internal HubHost Hub { get; private set; } = null!;

    /// <summary>The hub's clock: the system clock until a test steps it.</summary>
    internal AdjustableTimeProvider Clock { get; } = new();

    internal AdminClient HubAdmin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(Provider);
        Hub = await HubHost.StartWithClockAsync(_database, Clock, "--Eligibility:WatchPollInterval=00:00:00.100", "--Eligibility:WatchSettleDelay=00:00:00.300", "--Eligibility:WatchPageSize=2", "--Eligibility:MaxWatchStreamsPerPartner=2");
        HubAdmin = await Hub.HubAdminAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Hub.DisposeAsync();
        }
        finally
        {
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }
        }
    }
}

public sealed class FederationEligibilitySqliteTests(EligibilitySqliteFixture fixture) : FederationEligibilityTests(fixture), IClassFixture<EligibilitySqliteFixture>;

public sealed class FederationEligibilityPostgresTests(EligibilityPostgresFixture fixture) : FederationEligibilityTests(fixture), IClassFixture<EligibilityPostgresFixture>;

/// <summary>
/// Federation with two-party consent and partners' eligibility, through real landlord and partner clients with real
/// tokens. Households and opt-ins are written straight to the database (the roster service is tested on its own).
/// </summary>
public abstract class FederationEligibilityTests(EligibilityHubFixture fixture)
{
    private HubHost Hub => fixture.Hub;

    private AdminClient Admin => fixture.HubAdmin;

    [Fact]
    public async Task Neighbour_ProposedAcceptedByItsOwnClientAndEnded_EligibilityFollowsWithinOneCall()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var stranger = await LandlordClientAsync((await Admin.CreateLandlordAsync(SampleData.Landlord())).Id);
        var proposed = await Admin.CallAsync((client, options) => client.ProposeFederationAsync(new ProposeFederationRequest { ClubId = world.ClubId, LandlordId = world.NeighbourId }, options));
        var neighbourToken = await world.AddHouseholdAsync(world.NeighbourId, joined: false);
        var beforeAcceptance = await world.CheckAsync(neighbourToken);

        var listed = await world.Neighbour.CallAsync((client, options) => client.ListFederationProposalsAsync(new ListFederationProposalsRequest(), options));
        var byStranger = await stranger.FailsAsync((client, options) => client.AcceptFederationAsync(new AcceptFederationRequest { AgreementId = proposed.Id }, options));
        var byHost = await world.Host.FailsAsync((client, options) => client.AcceptFederationAsync(new AcceptFederationRequest { AgreementId = proposed.Id }, options));
        var accepted = await world.Neighbour.CallAsync((client, options) => client.AcceptFederationAsync(new AcceptFederationRequest { AgreementId = proposed.Id }, options));
        await world.JoinAsync(neighbourToken);
        var afterAcceptance = await world.CheckAsync(neighbourToken);
        var badEnd = await world.Neighbour.FailsAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = proposed.Id, EndsAt = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1_000_000_000_000_000 } }, options));
        var ended = await world.Neighbour.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = proposed.Id }, options));
        var afterEnd = await world.CheckAsync(neighbourToken);
        var hostMember = await world.CheckAsync(await world.AddHouseholdAsync(world.HostId, joined: true));

        Assert.Equal(FederationStatus.Proposed, proposed.Status);
        Assert.Equal(EligibilityReason.NotAMember, beforeAcceptance.Reason);
        Assert.Contains(listed.Agreements, agreement => agreement.Id == proposed.Id && agreement.Status == FederationStatus.Proposed);
        Assert.Equal((StatusCode.NotFound, $"agreement_id: federation agreement '{proposed.Id}' does not exist"), (byStranger.StatusCode, byStranger.Detail));
        Assert.Equal(StatusCode.PermissionDenied, byHost.StatusCode);
        Assert.Equal((FederationStatus.Active, world.NeighbourId), (accepted.Status, accepted.LandlordId));
        Assert.True(afterAcceptance.Eligible);
        Assert.Equal((StatusCode.InvalidArgument, "ends_at: must be a valid timestamp"), (badEnd.StatusCode, badEnd.Detail));
        Assert.Equal(FederationStatus.Ended, ended.Status);
        Assert.Equal((false, EligibilityReason.NotAMember), (afterEnd.Eligible, afterEnd.Reason));
        Assert.True(hostMember.Eligible);
    }

    [Fact]
    public async Task EndWithTheZeroTimestamp_EndsTheAgreementAtOnce()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();

        // 1970-01-01, what many clients send for "now": in the past, so at once, not a year out of range.
        var ended = await world.Neighbour.CallAsync((client, options) => client.EndFederationAsync(
            new EndFederationRequest { AgreementId = agreementId, EndsAt = new Google.Protobuf.WellKnownTypes.Timestamp() }, options));

        Assert.Equal(FederationStatus.Ended, ended.Status);
        Assert.Equal(Domain.FederationStatus.Ended, await world.StoredAgreementStatusAsync(agreementId));
    }

    [Fact]
    public async Task ListFederationProposals_ListsTheNewestFirst_SoAPendingProposalPrecedesAnEarlierEndedAgreement()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var endedId = await world.FederateAsync();
        await world.Neighbour.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = endedId }, options));
        var proposed = await Admin.CallAsync((client, options) => client.ProposeFederationAsync(new ProposeFederationRequest { ClubId = world.ClubId, LandlordId = world.NeighbourId }, options));

        var neighbourFirst = await world.Neighbour.CallAsync((client, options) => client.ListFederationProposalsAsync(new ListFederationProposalsRequest { PageSize = 1 }, options));
        var hostFirst = await world.Host.CallAsync((client, options) => client.ListFederationProposalsAsync(new ListFederationProposalsRequest { PageSize = 1 }, options));
        var neighbourSecond = await world.Neighbour.CallAsync((client, options) => client.ListFederationProposalsAsync(
            new ListFederationProposalsRequest { PageSize = 1, PageToken = neighbourFirst.NextPageToken }, options));

        Assert.Equal((proposed.Id, FederationStatus.Proposed), (Assert.Single(neighbourFirst.Agreements).Id, neighbourFirst.Agreements[0].Status));
        Assert.Equal(proposed.Id, Assert.Single(hostFirst.Agreements).Id);
        Assert.Equal((endedId, FederationStatus.Ended), (Assert.Single(neighbourSecond.Agreements).Id, neighbourSecond.Agreements[0].Status));
    }

    [Fact]
    public async Task EndWithAFutureDate_KeepsTheAgreementActiveUntilThatInstant()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();
        var token = await world.AddHouseholdAsync(world.NeighbourId, joined: true);
        var endsAt = TimeProvider.System.GetUtcNow().AddSeconds(3);

        var noticed = await Admin.CallAsync((client, options) => client.EndFederationAsync(
            new EndFederationRequest { AgreementId = agreementId, EndsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(endsAt) }, options));
        var duringNotice = await world.CheckAsync(token);
        await Task.Delay(endsAt - TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(200));
        var afterTheDate = await world.CheckAsync(token);
        var listed = await world.Neighbour.CallAsync((client, options) => client.ListFederationProposalsAsync(new ListFederationProposalsRequest(), options));

        Assert.Equal(FederationStatus.Active, noticed.Status);
        Assert.True(duringNotice.Eligible);
        Assert.Equal((false, EligibilityReason.NotAMember), (afterTheDate.Eligible, afterTheDate.Reason));
        Assert.Equal(FederationStatus.Ended, Assert.Single(listed.Agreements, agreement => agreement.Id == agreementId).Status);
    }

    [Fact]
    public async Task EndContract_WithALastDayAheadKeepsOffersActive_AndWithAPastDayEndsThemAtOnce()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var token = await world.AddHouseholdAsync(world.HostId, joined: true);
        var today = Domain.Period.DayOf(TimeProvider.System.GetUtcNow());

        var noticed = await Admin.CallAsync((client, options) => client.EndContractAsync(new EndContractRequest { ContractId = world.ContractId, EndDate = today.AddDays(10).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) }, options));
        var duringNotice = await world.CheckAsync(token);
        var ended = await Admin.CallAsync((client, options) => client.EndContractAsync(new EndContractRequest { ContractId = world.ContractId, EndDate = today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) }, options));
        var afterEnd = await world.CheckAsync(token);

        Assert.Equal(ContractStatus.Active, noticed.Status);
        Assert.True(duringNotice.Eligible);
        Assert.Equal(ContractStatus.Ended, ended.Status);
        Assert.Equal(EligibilityReason.OfferNotActive, afterEnd.Reason);
    }

    [Fact]
    public async Task Check_AnswersWithTheReasonOfTheRedemptionRules()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var member = await world.AddHouseholdAsync(world.HostId, joined: true);
        var notJoined = await world.AddHouseholdAsync(world.HostId, joined: false);
        var left = await world.AddHouseholdAsync(world.HostId, joined: true, active: false);
        var other = await World.CreateAsync(Hub, Admin);
        var future = await Admin.CreateOfferAsync(new CreateOfferRequest
        {
            Id = SampleData.Slug("offer"),
            ContractId = world.ContractId,
            Title = "Later",
            Terms = WithWindow(SampleData.TenPercentCappedAt(500), TimeProvider.System.GetUtcNow().AddDays(10)),
        });
        var qpvOnly = SampleData.TenPercentCappedAt(500);
        qpvOnly.QpvOnly = true;
        var qpv = await Admin.CreateOfferAsync(new CreateOfferRequest { Id = SampleData.Slug("offer"), ContractId = world.ContractId, Title = "QPV", Terms = qpvOnly });

        var eligible = await world.CheckAsync(member);
        var unknown = await world.CheckAsync("mt_unknown");
        var notAMember = await world.CheckAsync(notJoined);
        var hasLeft = await world.CheckAsync(left);
        var notYours = await world.CheckAsync(member, other.OfferId);
        var malformed = await world.CheckAsync("", world.OfferId);
        var outside = await world.CheckAsync(member, future.Id);
        var notEligible = await world.CheckAsync(member, qpv.Id);
        await Admin.CallAsync((client, options) => client.SuspendContractAsync(new SuspendContractRequest { ContractId = world.ContractId }, options));
        var suspended = await world.CheckAsync(member);

        Assert.Equal((true, EligibilityReason.Unspecified, 1), (eligible.Eligible, eligible.Reason, eligible.OfferVersion));
        Assert.Equal(EligibilityReason.UnknownMember, unknown.Reason);
        Assert.Equal(EligibilityReason.NotAMember, notAMember.Reason);
        Assert.Equal(EligibilityReason.NotAMember, hasLeft.Reason);
        Assert.Equal((EligibilityReason.NotYourOffer, 0), (notYours.Reason, notYours.OfferVersion));
        Assert.Equal(EligibilityReason.Malformed, malformed.Reason);
        Assert.Equal(EligibilityReason.OutsideWindow, outside.Reason);
        Assert.Equal(EligibilityReason.NotEligible, notEligible.Reason);
        Assert.Equal(EligibilityReason.ContractSuspended, suspended.Reason);
        Assert.All([unknown, notAMember, hasLeft, notYours, malformed, outside, notEligible, suspended], answer => Assert.False(answer.Eligible));
    }

    // members_only = false opens an offer to every active tenant of the club's landlords (its host, and those with an
    // agreement in force), opted in or not; a household of any other landlord is refused as not a member, before the
    // offer's own conditions are looked at, so a partner learns nothing about it.
    [Fact]
    public async Task OfferNotMembersOnly_ServesTenantsOfTheClubsLandlords_NeverHouseholdsOfAnotherLandlord()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var terms = SampleData.TenPercentCappedAt(500);
        terms.MembersOnly = false;
        var open = await Admin.CreateOfferAsync(new CreateOfferRequest { Id = SampleData.Slug("offer"), ContractId = world.ContractId, Title = "For every tenant", Terms = terms });
        var hostTenant = await world.AddHouseholdAsync(world.HostId, joined: false);
        var neighbourTenant = await world.AddHouseholdAsync(world.NeighbourId, joined: false);
        var stranger = await world.AddHouseholdAsync((await Admin.CreateLandlordAsync(SampleData.Landlord())).Id, joined: false);

        var hostTenantCheck = await world.CheckAsync(hostTenant, open.Id);
        var neighbourBeforeAgreement = await world.CheckAsync(neighbourTenant, open.Id);
        var strangerCheck = await world.CheckAsync(stranger, open.Id);
        var strangerRedemption = await world.RedeemAsync(stranger, open.Id);
        var hostTenantRedemption = await world.RedeemAsync(hostTenant, open.Id);
        await world.FederateAsync();
        var neighbourUnderAgreement = await world.CheckAsync(neighbourTenant, open.Id);

        Assert.True(hostTenantCheck.Eligible);
        Assert.Equal(RedemptionOutcome.Accepted, hostTenantRedemption.Outcome);
        Assert.Equal(EligibilityReason.NotAMember, neighbourBeforeAgreement.Reason);
        Assert.True(neighbourUnderAgreement.Eligible);
        Assert.Equal(EligibilityReason.NotAMember, strangerCheck.Reason);
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.NotAMember), (strangerRedemption.Outcome, strangerRedemption.Reason));
    }

    [Fact]
    public async Task Check_WithAControlCharacterInTheTokenOrTheOfferId_IsMalformed_AndTheNextCheckIsAnswered()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var member = await world.AddHouseholdAsync(world.HostId, joined: true);

        // PostgreSQL refuses a NUL in a query: unchecked, the call ended INTERNAL there (SQLite stores it fine).
        var nulInToken = await world.CheckAsync("mt_abc\0def");
        var nulInOffer = await world.CheckAsync(member, world.OfferId + "\0");
        var lineBreakInToken = await world.CheckAsync(member + "\n");
        var afterwards = await world.CheckAsync(member);

        Assert.All([nulInToken, nulInOffer, lineBreakInToken], answer => Assert.Equal((false, EligibilityReason.Malformed), (answer.Eligible, answer.Reason)));
        Assert.True(afterwards.Eligible);
    }

    [Fact]
    public async Task CheckAndARedemption_AgreeOnANeighboursMember_BeforeAndAfterTheAgreementsNoticeRunsOut()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();
        var token = await world.AddHouseholdAsync(world.NeighbourId, joined: true);
        var endsAt = TimeProvider.System.GetUtcNow().AddSeconds(3);
        await Admin.CallAsync((client, options) => client.EndFederationAsync(
            new EndFederationRequest { AgreementId = agreementId, EndsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(endsAt) }, options));

        var checkDuringNotice = await world.CheckAsync(token);
        var redeemedDuringNotice = await world.RedeemAsync(token);
        await Task.Delay(endsAt - TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(200));
        var checkAfter = await world.CheckAsync(token);
        var redeemedAfter = await world.RedeemAsync(token);

        Assert.True(checkDuringNotice.Eligible);
        Assert.Equal(RedemptionOutcome.Accepted, redeemedDuringNotice.Outcome);
        // The row still says Active: only the one rule's reading as of the instant (ClubEligibility) refuses, on both paths.
        Assert.Equal(Domain.FederationStatus.Active, await world.StoredAgreementStatusAsync(agreementId));
        Assert.Equal((false, EligibilityReason.NotAMember), (checkAfter.Eligible, checkAfter.Reason));
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.NotAMember), (redeemedAfter.Outcome, redeemedAfter.Reason));
    }

    [Fact]
    public async Task ALateRedemption_IsJudgedByTheAgreementInForceWhenItHappened_WhateverTheAgreementsRowSaysNow()
    {
        var world = await World.CreateAsync(Hub, Admin);
        // After the offer's window opened, before the agreement was accepted (the hub keeps instants to the millisecond).
        var beforeAcceptance = TimeProvider.System.GetUtcNow();
        await Task.Delay(TimeSpan.FromMilliseconds(20));
        var agreementId = await world.FederateAsync();
        var token = await world.AddHouseholdAsync(world.NeighbourId, joined: true);
        var whileInForce = TimeProvider.System.GetUtcNow();
        // The hub keeps instants to the millisecond: the end is recorded in a later one.
        await Task.Delay(TimeSpan.FromMilliseconds(20));
        await Admin.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId }, options));

        var backdated = await world.RedeemAsync(token, occurredAt: beforeAcceptance);
        var uploadedLate = await world.RedeemAsync(token, occurredAt: whileInForce);
        var afterTheEnd = await world.RedeemAsync(token);

        Assert.Equal(Domain.FederationStatus.Ended, await world.StoredAgreementStatusAsync(agreementId));
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.NotAMember), (backdated.Outcome, backdated.Reason));
        Assert.Equal(RedemptionOutcome.Accepted, uploadedLate.Outcome);
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.NotAMember), (afterTheEnd.Outcome, afterTheEnd.Reason));
    }

    [Fact]
    public async Task ContractStartingTomorrow_IsNeitherEligibleNorRedeemableToday()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var member = await world.AddHouseholdAsync(world.HostId, joined: true);
        // The same partner and club: a second contract, in force from tomorrow (Paris), next to the one in force.
        var contract = SampleData.Contract(world.ClubId, world.PartnerId);
        contract.StartDate = Domain.Period.DayOf(TimeProvider.System.GetUtcNow()).AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var startsTomorrow = await Admin.CreateContractAsync(contract);
        var offer = await Admin.CreateOfferAsync(new CreateOfferRequest { Id = SampleData.Slug("offer"), ContractId = startsTomorrow.Id, Title = "From tomorrow", Terms = SampleData.TenPercentCappedAt(500) });

        var check = await world.CheckAsync(member, offer.Id);
        var redeemed = await world.RedeemAsync(member, offer.Id);
        var listed = await world.Partner.CallAsync((client, options) => client.ListOffersAsync(new ListPartnerOffersRequest(), options));
        var inForce = await world.CheckAsync(member);

        Assert.Equal((false, EligibilityReason.OfferNotActive), (check.Eligible, check.Reason));
        Assert.Equal((RedemptionOutcome.Rejected, RedemptionReason.OfferNotActive), (redeemed.Outcome, redeemed.Reason));
        Assert.False(Assert.Single(listed.Offers, listedOffer => listedOffer.OfferId == offer.Id).RedeemableNow);
        Assert.True(Assert.Single(listed.Offers, listedOffer => listedOffer.OfferId == world.OfferId).RedeemableNow);
        Assert.True(inForce.Eligible);
    }

    [Fact]
    public async Task ListOffers_LeavesOutAContractSuspendedThenWithdrawnBeforeItsStart()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var contract = SampleData.Contract(world.ClubId, world.PartnerId);
        var today = Domain.Period.DayOf(TimeProvider.System.GetUtcNow());
        contract.StartDate = today.AddDays(10).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var later = await Admin.CreateContractAsync(contract);
        var offer = await Admin.CreateOfferAsync(new CreateOfferRequest { Id = SampleData.Slug("offer"), ContractId = later.Id, Title = "Later", Terms = SampleData.TenPercentCappedAt(500) });
        await Admin.CallAsync((client, options) => client.SuspendContractAsync(new SuspendContractRequest { ContractId = later.Id }, options));
        // Withdrawn: its last day is the day before its first, so it never comes into force.
        var withdrawn = await Admin.CallAsync((client, options) => client.EndContractAsync(new EndContractRequest { ContractId = later.Id, EndDate = today.AddDays(9).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) }, options));

        var listed = await world.Partner.CallAsync((client, options) => client.ListOffersAsync(new ListPartnerOffersRequest(), options));

        Assert.Equal(ContractStatus.Ended, withdrawn.Status);
        Assert.Equal([world.OfferId], listed.Offers.Select(listedOffer => listedOffer.OfferId));
        Assert.DoesNotContain(listed.Offers, listedOffer => listedOffer.OfferId == offer.Id);
    }

    [Fact]
    public async Task ListOffers_ListsOnlyThePartnersOwn()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var other = await World.CreateAsync(Hub, Admin);

        var listed = await world.Partner.CallAsync((client, options) => client.ListOffersAsync(new ListPartnerOffersRequest(), options));

        var offer = Assert.Single(listed.Offers);
        Assert.Equal((world.OfferId, world.ClubId, 1, 500L, true), (offer.OfferId, offer.ClubId, offer.Version, offer.Terms.PercentCapCents, offer.RedeemableNow));
        Assert.DoesNotContain(listed.Offers, listedOffer => listedOffer.OfferId == other.OfferId);
    }

    [Fact]
    public async Task ListOffers_PagesByOfferId_SoOffersLeavingBetweenPagesHideNoOther()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var secondClub = await Admin.CreateClubAsync(SampleData.Club(world.HostId));
        var secondContract = await Admin.CreateContractAsync(SampleData.Contract(secondClub.Id, world.PartnerId));
        var suffix = Guid.NewGuid().ToString("N")[..8];
        foreach (var (id, contractId) in new[] { ($"aa-{suffix}-1", world.ContractId), ($"aa-{suffix}-2", world.ContractId), ($"zz-{suffix}", secondContract.Id) })
        {
            await Admin.CreateOfferAsync(new CreateOfferRequest { Id = id, ContractId = contractId, Title = "10 % off bread", Terms = SampleData.TenPercentCappedAt(500) });
        }

        var first = await world.Partner.CallAsync((client, options) => client.ListOffersAsync(new ListPartnerOffersRequest { PageSize = 2 }, options));
        // The first club's contract ends between the two pages: its three offers leave the list.
        await Admin.CallAsync((client, options) => client.EndContractAsync(new EndContractRequest { ContractId = world.ContractId, EndDate = "2026-06-30" }, options));
        var second = await world.Partner.CallAsync((client, options) => client.ListOffersAsync(new ListPartnerOffersRequest { PageSize = 2, PageToken = first.NextPageToken }, options));
        var forged = System.Buffers.Text.Base64Url.EncodeToString("after:aa\0"u8);
        var refused = await world.Partner.FailsAsync((client, options) => client.ListOffersAsync(new ListPartnerOffersRequest { PageToken = forged }, options));

        Assert.Equal([$"aa-{suffix}-1", $"aa-{suffix}-2"], first.Offers.Select(offer => offer.OfferId));
        Assert.Equal($"zz-{suffix}", Assert.Single(second.Offers).OfferId);
        Assert.Empty(second.NextPageToken);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
    }

    [Fact]
    public async Task Watch_StartsWithASnapshot_AndResumesFromACursorWithTheChangesSince()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();
        var members = new List<string>();
        for (var index = 0; index < 3; index++)
        {
            members.Add(await world.AddHouseholdAsync(world.HostId, joined: true));
        }

        var neighbourMember = await world.AddHouseholdAsync(world.NeighbourId, joined: true);
        var notJoined = await world.AddHouseholdAsync(world.HostId, joined: false);

        // Past the settle delay (300 ms), so the snapshot's cursor is after these writes: unchanged members stay out of the resumed update.
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        List<EligibilityUpdate> snapshot;
        using (var call = world.Partner.Watch(new WatchEligibilityRequest(), deadline.Token))
        {
            snapshot = await ReadUpdateAsync(call.ResponseStream, deadline.Token);
        }

        await world.SetHouseholdLeftAsync(members[0]);
        await Admin.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId }, options));
        // The two changes may fall in one window or in two consecutive ones: read updates until both have come.
        var resumed = new List<List<EligibilityUpdate>>();
        using (var call = world.Partner.Watch(new WatchEligibilityRequest { Cursor = snapshot[^1].Cursor }, deadline.Token))
        {
            while (!resumed.SelectMany(update => update).SelectMany(message => message.Entries).Any(entry => entry.MemberToken == members[0] && !entry.Eligible)
                || !resumed.SelectMany(update => update).SelectMany(message => message.Entries).Any(entry => entry.MemberToken == neighbourMember && !entry.Eligible))
            {
                resumed.Add(await ReadUpdateAsync(call.ResponseStream, deadline.Token));
            }
        }

        var snapshotEntries = snapshot.SelectMany(update => update.Entries).ToList();
        Assert.All(snapshot, update => Assert.True(update.Snapshot));
        Assert.True(snapshot.Count >= 2, "the snapshot comes in pages of Eligibility:WatchPageSize households");
        Assert.All(snapshot[..^1], update => Assert.Empty(update.Cursor));
        Assert.Equal(members.Append(neighbourMember).Order(StringComparer.Ordinal), snapshotEntries.Select(entry => entry.MemberToken).Order(StringComparer.Ordinal), StringComparer.Ordinal);
        Assert.DoesNotContain(snapshotEntries, entry => entry.MemberToken == notJoined);
        Assert.All(snapshotEntries, entry => Assert.True(entry.Eligible && entry.ClubId == world.ClubId));

        Assert.All(resumed, update =>
        {
            var entries = update.SelectMany(message => message.Entries).ToList();
            Assert.Equal(entries.Count, entries.Select(entry => (entry.MemberToken, entry.ClubId)).Distinct().Count());
            Assert.DoesNotContain(entries, entry => entry.MemberToken == members[1] || entry.MemberToken == notJoined);
            Assert.NotEmpty(update[^1].Cursor);
        });
    }

    [Fact]
    public async Task Watch_WhenAnAgreementsNoticeRunsOut_SendsItsMembersAsNoLongerEligible_WithNothingWrittenAtThatInstant()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();
        var neighbourMember = await world.AddHouseholdAsync(world.NeighbourId, joined: true);
        var hostMember = await world.AddHouseholdAsync(world.HostId, joined: true);
        // Past the settle delay (300 ms): the first window does not send these writes again.
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        using var call = world.Partner.Watch(new WatchEligibilityRequest(), deadline.Token);
        var snapshot = (await ReadUpdateAsync(call.ResponseStream, deadline.Token)).SelectMany(message => message.Entries).ToList();
        var endsAt = fixture.Clock.GetUtcNow().AddSeconds(1);
        await world.Neighbour.CallAsync((client, options) => client.EndFederationAsync(
            new EndFederationRequest { AgreementId = agreementId, EndsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(endsAt) }, options));

        var update = (await ReadUpdateAsync(call.ResponseStream, deadline.Token)).SelectMany(message => message.Entries).ToList();
        var sentAt = fixture.Clock.GetUtcNow();

        Assert.Contains(snapshot, entry => entry.MemberToken == neighbourMember && entry.Eligible);
        Assert.Equal(Domain.FederationStatus.Active, await world.StoredAgreementStatusAsync(agreementId));
        Assert.True(sentAt >= endsAt, "the update comes once the notice has run out, not when it was given");
        Assert.Equal([(neighbourMember, world.ClubId, false)], update.Select(entry => (entry.MemberToken, entry.ClubId, entry.Eligible)));
        Assert.DoesNotContain(update, entry => entry.MemberToken == hostMember);
    }

    [Fact]
    public async Task Watch_OverTheStreamLimit_IsResourceExhaustedNamingTheLimit()
    {
        var world = await World.CreateAsync(Hub, Admin);
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        using var first = world.Partner.Watch(new WatchEligibilityRequest(), deadline.Token);
        using var second = world.Partner.Watch(new WatchEligibilityRequest(), deadline.Token);
        // Each stream holds its slot once its snapshot has come.
        Assert.True(await first.ResponseStream.MoveNext(deadline.Token));
        Assert.True(await second.ResponseStream.MoveNext(deadline.Token));
        using var third = world.Partner.Watch(new WatchEligibilityRequest(), deadline.Token);

        var error = await Assert.ThrowsAsync<RpcException>(() => third.ResponseStream.MoveNext(deadline.Token));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("Eligibility:MaxWatchStreamsPerPartner is 2", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostLandlord_EndsWithNoticeThroughItsOwnClient_TheNeighbourCannotPushItBack_AndAStrangerSeesNothing()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();
        var stranger = await LandlordClientAsync((await Admin.CreateLandlordAsync(SampleData.Landlord())).Id);
        // Whole seconds: the hub stores instants to the millisecond.
        var in30Days = DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().AddDays(30).ToUnixTimeSeconds());
        var endsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(in30Days);
        var later = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(in30Days.AddYears(900));
        var sooner = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(in30Days.AddDays(-10));

        var byStranger = await stranger.FailsAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId }, options));
        var noticed = await world.Host.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId, EndsAt = endsAt }, options));
        var pushedBack = await world.Neighbour.FailsAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId, EndsAt = later }, options));
        var listedByNeighbour = await world.Neighbour.CallAsync((client, options) => client.ListFederationProposalsAsync(new ListFederationProposalsRequest(), options));
        var broughtForward = await world.Neighbour.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId, EndsAt = sooner }, options));

        Assert.Equal(StatusCode.NotFound, byStranger.StatusCode);
        Assert.Equal((FederationStatus.Active, endsAt), (noticed.Status, noticed.EndedAt));
        Assert.Equal(StatusCode.FailedPrecondition, pushedBack.StatusCode);
        Assert.Contains("an end can be brought forward, not pushed back", pushedBack.Detail, StringComparison.Ordinal);
        Assert.Equal(endsAt, Assert.Single(listedByNeighbour.Agreements, agreement => agreement.Id == agreementId).EndedAt);
        Assert.Equal((FederationStatus.Active, sooner), (broughtForward.Status, broughtForward.EndedAt));
    }

    [Fact]
    public async Task EndWithNotice_SentAgainWithTheSameInstantBelowTheMillisecond_IsAnsweredAsTheFirstTime_WithTheEndAsStored()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();
        // What a client computes from its clock (DateTimeOffset.UtcNow.AddDays(30)): ticks below the millisecond.
        var asStored = DateTimeOffset.FromUnixTimeMilliseconds(fixture.Clock.GetUtcNow().AddDays(30).ToUnixTimeMilliseconds());
        var endsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(asStored.AddTicks(4_567));
        var stored = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(asStored);

        var noticed = await world.Neighbour.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId, EndsAt = endsAt }, options));
        // The same request again: a retry after a lost answer, or the host giving the same notice.
        var again = await world.Host.CallAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = agreementId, EndsAt = endsAt }, options));
        var listed = await world.Neighbour.CallAsync((client, options) => client.ListFederationProposalsAsync(new ListFederationProposalsRequest(), options));

        Assert.Equal((FederationStatus.Active, stored), (noticed.Status, noticed.EndedAt));
        Assert.Equal((FederationStatus.Active, stored), (again.Status, again.EndedAt));
        Assert.Equal(stored, Assert.Single(listed.Agreements, agreement => agreement.Id == agreementId).EndedAt);
    }

    [Fact]
    public async Task Accept_AnAgreementWhoseNoticeRanOut_IsRefusedNamingItAsEnded()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var agreementId = await world.FederateAsync();
        var endsAt = fixture.Clock.GetUtcNow().AddSeconds(1);
        await world.Host.CallAsync((client, options) => client.EndFederationAsync(
            new EndFederationRequest { AgreementId = agreementId, EndsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(endsAt) }, options));
        await Task.Delay(endsAt - fixture.Clock.GetUtcNow() + TimeSpan.FromMilliseconds(200));

        var accepted = await world.Neighbour.FailsAsync((client, options) => client.AcceptFederationAsync(new AcceptFederationRequest { AgreementId = agreementId }, options));

        // The row still says Active; the agreement is over, as every answer about it says.
        Assert.Equal(Domain.FederationStatus.Active, await world.StoredAgreementStatusAsync(agreementId));
        Assert.Equal((StatusCode.FailedPrecondition, "status: only a proposed agreement can be accepted (it is Ended)"), (accepted.StatusCode, accepted.Detail));
    }

    [Fact]
    public async Task ProposeFederation_WhileOneIsProposedOrActive_IsAlreadyExists_AndOnceItsNoticeRanOutANewOneIsProposed()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var propose = new ProposeFederationRequest { ClubId = world.ClubId, LandlordId = world.NeighbourId };
        var first = await Admin.CallAsync((client, options) => client.ProposeFederationAsync(propose, options));
        var whileProposed = await Admin.FailsAsync((client, options) => client.ProposeFederationAsync(propose, options));
        await world.Neighbour.CallAsync((client, options) => client.AcceptFederationAsync(new AcceptFederationRequest { AgreementId = first.Id }, options));
        var acceptedTwice = await world.Neighbour.FailsAsync((client, options) => client.AcceptFederationAsync(new AcceptFederationRequest { AgreementId = first.Id }, options));
        var whileActive = await Admin.FailsAsync((client, options) => client.ProposeFederationAsync(propose, options));
        var endsAt = fixture.Clock.GetUtcNow().AddSeconds(1);
        await world.Neighbour.CallAsync((client, options) => client.EndFederationAsync(
            new EndFederationRequest { AgreementId = first.Id, EndsAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(endsAt) }, options));
        var duringNotice = await Admin.FailsAsync((client, options) => client.ProposeFederationAsync(propose, options));
        await Task.Delay(endsAt - fixture.Clock.GetUtcNow() + TimeSpan.FromMilliseconds(200));
        var second = await Admin.CallAsync((client, options) => client.ProposeFederationAsync(propose, options));
        var endedOnceMore = await world.Neighbour.FailsAsync((client, options) => client.EndFederationAsync(new EndFederationRequest { AgreementId = first.Id }, options));

        Assert.Equal(StatusCode.AlreadyExists, whileProposed.StatusCode);
        Assert.Equal((StatusCode.FailedPrecondition, "status: only a proposed agreement can be accepted (it is Active)"), (acceptedTwice.StatusCode, acceptedTwice.Detail));
        Assert.Equal(StatusCode.AlreadyExists, whileActive.StatusCode);
        Assert.Equal(StatusCode.AlreadyExists, duringNotice.StatusCode);
        Assert.Equal(FederationStatus.Proposed, second.Status);
        Assert.Equal(Domain.FederationStatus.Ended, await world.StoredAgreementStatusAsync(first.Id));
        Assert.Equal((StatusCode.FailedPrecondition, "status: the agreement has already ended"), (endedOnceMore.StatusCode, endedOnceMore.Detail));
    }

    [Fact]
    public async Task Watch_WithACursorTheHubDidNotIssue_IsInvalidArgument()
    {
        var world = await World.CreateAsync(Hub, Admin);
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        using var call = world.Partner.Watch(new WatchEligibilityRequest { Cursor = "not-a-cursor" }, deadline.Token);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(deadline.Token));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Watch_ResumedAfterAContractWasAddedOrEnded_EndsAbortedBeforeSendingAnything()
    {
        var world = await World.CreateAsync(Hub, Admin);
        await world.AddHouseholdAsync(world.HostId, joined: true);
        var today = Domain.Period.DayOf(TimeProvider.System.GetUtcNow());
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        var beforeNewContract = await SnapshotCursorAsync(world, deadline.Token);

        var added = await world.AddClubWithContractAsync(startDate: today.AddDays(-1));
        var resumedAfterAdding = await ResumeFailsAsync(world, beforeNewContract, deadline.Token);
        var beforeEnding = await SnapshotCursorAsync(world, deadline.Token);
        // Ended at once (its last day in force yesterday): the club drops out of the partner's set.
        await Admin.CallAsync((client, options) => client.EndContractAsync(new EndContractRequest { ContractId = added.ContractId, EndDate = today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) }, options));
        var resumedAfterEnding = await ResumeFailsAsync(world, beforeEnding, deadline.Token);
        var current = await SnapshotCursorAsync(world, deadline.Token);
        using var resumedUnchanged = world.Partner.Watch(new WatchEligibilityRequest { Cursor = current }, deadline.Token);
        // Not failed after several polls (100 ms each): the same club set resumes (an update may have come meanwhile).
        var next = resumedUnchanged.ResponseStream.MoveNext(deadline.Token);
        await Task.WhenAny(next, Task.Delay(TimeSpan.FromMilliseconds(500)));
        var stillRunning = !next.IsCompleted || await next;

        Assert.All([resumedAfterAdding, resumedAfterEnding], error =>
            Assert.Equal((StatusCode.Aborted, true), (error.StatusCode, error.Status.Detail.Contains("reconnect without a cursor", StringComparison.Ordinal))));
        Assert.True(stillRunning, "a resumed stream with the same clubs keeps running");
    }

    [Fact]
    public async Task Watch_WithAForgedAlteredOrAnotherPartnersCursor_IsInvalidArgument()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var other = await World.CreateAsync(Hub, Admin);
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        var issued = await SnapshotCursorAsync(world, deadline.Token);
        var othersCursor = await SnapshotCursorAsync(other, deadline.Token);
        // The unprotected v1 form the hub wrote before (an instant in milliseconds), here with an instant it never sent.
        var forged = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.ASCII.GetBytes("eligibility:v1:1"));
        var altered = issued[..^2] + (issued[^2] == 'A' ? 'B' : 'A') + issued[^1];

        var errors = new List<RpcException>();
        foreach (var cursor in new[] { forged, altered, othersCursor, "mt_\0" })
        {
            errors.Add(await ResumeFailsAsync(world, cursor, deadline.Token));
        }

        Assert.All(errors, error =>
            Assert.Equal((StatusCode.InvalidArgument, true), (error.StatusCode, error.Status.Detail.Contains("reconnect without a cursor for a fresh snapshot", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task Watch_ShowsNoMemberOfAClubWhoseContractHasNotStarted_AndItsStartDayEndsTheStreamAborted()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var member = await world.AddHouseholdAsync(world.HostId, joined: true);
        var today = Domain.Period.DayOf(TimeProvider.System.GetUtcNow());
        var later = await world.AddClubWithContractAsync(startDate: today.AddDays(1));
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        using var call = world.Partner.Watch(new WatchEligibilityRequest(), deadline.Token);
        var snapshot = await ReadUpdateAsync(call.ResponseStream, deadline.Token);

        await world.SetContractStartDateAsync(later.ContractId, today);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(deadline.Token))
            {
            }
        });

        var entries = snapshot.SelectMany(update => update.Entries).ToList();
        Assert.Equal(member, Assert.Single(entries).MemberToken);
        Assert.DoesNotContain(entries, entry => entry.MemberToken == later.MemberToken || entry.ClubId == later.ClubId);
        Assert.Equal(StatusCode.Aborted, error.StatusCode);
    }

    [Fact]
    public async Task Watch_WhenTheHubsClockStepsBack_SendsAChangeStampedAfterTheStep()
    {
        var world = await World.CreateAsync(Hub, Admin);
        var member = await world.AddHouseholdAsync(world.HostId, joined: true);
        // Past the settle delay (300 ms): the snapshot's cursor is after the member's creation, which no update repeats.
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        using var call = world.Partner.Watch(new WatchEligibilityRequest(), deadline.Token);
        var snapshot = await ReadUpdateAsync(call.ResponseStream, deadline.Token);
        // Several polls (100 ms each): the stream's window has moved on to about 300 ms behind the clock.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        // The hub's clock steps back 2 s (an NTP correction, a resumed virtual machine), far more than the settle
        // delay, and the member leaves: the change is stamped by the stepped-back clock, before the stream's window.
        fixture.Clock.Advance(TimeSpan.FromSeconds(-2));
        var updates = new List<EligibilityEntry>();
        try
        {
            await world.SetHouseholdLeftAsync(member, fixture.Clock.GetUtcNow());
            // Well past the 2 s step: without the stream looking back, the change would never come.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
            wait.CancelAfter(TimeSpan.FromSeconds(5));
            while (!updates.Any(entry => entry.MemberToken == member && !entry.Eligible))
            {
                updates.AddRange((await ReadUpdateAsync(call.ResponseStream, wait.Token)).SelectMany(message => message.Entries));
            }
        }
        finally
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(2));
        }

        Assert.Contains(snapshot.SelectMany(message => message.Entries), entry => entry.MemberToken == member && entry.Eligible);
        Assert.All(updates, entry => Assert.Equal(member, entry.MemberToken));
    }

    /// <summary>Reads a fresh snapshot to its end and returns its cursor.</summary>
    private static async Task<string> SnapshotCursorAsync(World world, CancellationToken cancellationToken)
    {
        using var call = world.Partner.Watch(new WatchEligibilityRequest(), cancellationToken);
        var snapshot = await ReadUpdateAsync(call.ResponseStream, cancellationToken);
        return snapshot[^1].Cursor;
    }

    /// <summary>Resumes <paramref name="world"/>'s partner from <paramref name="cursor"/> and returns how the stream failed.</summary>
    private static async Task<RpcException> ResumeFailsAsync(World world, string cursor, CancellationToken cancellationToken)
    {
        using var call = world.Partner.Watch(new WatchEligibilityRequest { Cursor = cursor }, cancellationToken);
        return await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(cancellationToken))
            {
            }
        });
    }

    /// <summary>Reads the messages of the next update that has entries, up to the one carrying its cursor.</summary>
    private static async Task<List<EligibilityUpdate>> ReadUpdateAsync(IAsyncStreamReader<EligibilityUpdate> stream, CancellationToken cancellationToken)
    {
        var update = new List<EligibilityUpdate>();
        while (await stream.MoveNext(cancellationToken))
        {
            update.Add(stream.Current);
            if (stream.Current.Cursor.Length > 0)
            {
                if (update.Any(message => message.Entries.Count > 0) || update[0].Snapshot)
                {
                    return update;
                }

                update.Clear();
            }
        }

        throw new InvalidOperationException("The Watch stream ended.");
    }

    private static OfferTerms WithWindow(OfferTerms terms, DateTimeOffset validFrom)
    {
        terms.ValidFrom = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(validFrom);
        return terms;
    }

    private async Task<ServiceClient<FederationService.FederationServiceClient>> LandlordClientAsync(string landlordId)
    {
        var registered = await Admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
        {
            Kind = ClientKind.Landlord,
            DisplayName = "Landlord " + landlordId,
            LandlordId = landlordId,
            Scopes = { "hlmhub.federation" },
        }, options));
        return new(new FederationService.FederationServiceClient(Hub.Channel), await Hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret));
    }

    /// <summary>
    /// A host landlord's club with a neighbour invited, a partner with a contract and a 10 % offer in it, and each
    /// party's own client.
    /// </summary>
    private sealed class World
    {
        private HubHost _hub = null!;
        private string? _redemptionToken;

        public string HostId { get; private set; } = "";

        public string NeighbourId { get; private set; } = "";

        public string ClubId { get; private set; } = "";

        public string ContractId { get; private set; } = "";

        public string OfferId { get; private set; } = "";

        public string PartnerId { get; private set; } = "";

        public ServiceClient<FederationService.FederationServiceClient> Host { get; private set; } = null!;

        public ServiceClient<FederationService.FederationServiceClient> Neighbour { get; private set; } = null!;

        public ServiceClient<EligibilityService.EligibilityServiceClient> Partner { get; private set; } = null!;

        private AdminClient Admin { get; set; } = null!;

        public static async Task<World> CreateAsync(HubHost hub, AdminClient admin)
        {
            var host = await admin.CreateLandlordAsync(SampleData.Landlord());
            var neighbour = await admin.CreateLandlordAsync(SampleData.Landlord());
            var club = await admin.CreateClubAsync(SampleData.Club(host.Id));
            var bakery = await admin.CreatePartnerAsync(SampleData.Bakery());
            var contract = await admin.CreateContractAsync(SampleData.Contract(club.Id, bakery.Id));
            var offer = await admin.CreateOfferAsync(new CreateOfferRequest { Id = SampleData.Slug("offer"), ContractId = contract.Id, Title = "10 % off bread", Terms = SampleData.TenPercentCappedAt(500) });
            var world = new World { _hub = hub, Admin = admin, HostId = host.Id, NeighbourId = neighbour.Id, ClubId = club.Id, ContractId = contract.Id, OfferId = offer.Id, PartnerId = bakery.Id };
            world.Host = new(new FederationService.FederationServiceClient(hub.Channel), await world.TokenAsync(ClientKind.Landlord, host.Id, "hlmhub.federation"));
            world.Neighbour = new(new FederationService.FederationServiceClient(hub.Channel), await world.TokenAsync(ClientKind.Landlord, neighbour.Id, "hlmhub.federation"));
            world.Partner = new(new EligibilityService.EligibilityServiceClient(hub.Channel), await world.TokenAsync(ClientKind.Partner, bakery.Id, "hlmhub.offers.read"));
            return world;
        }

        /// <summary>Proposed by the club's administrator and accepted by the neighbour's own client.</summary>
        public async Task<string> FederateAsync()
        {
            var proposed = await Admin.CallAsync((client, options) => client.ProposeFederationAsync(new ProposeFederationRequest { ClubId = ClubId, LandlordId = NeighbourId }, options));
            await Neighbour.CallAsync((client, options) => client.AcceptFederationAsync(new AcceptFederationRequest { AgreementId = proposed.Id }, options));
            return proposed.Id;
        }

        public Task<CheckEligibilityResponse> CheckAsync(string memberToken, string? offerId = null) =>
            Partner.CallAsync((client, options) => client.CheckAsync(new CheckEligibilityRequest { MemberToken = memberToken, OfferId = offerId ?? OfferId }, options));

        /// <summary>The partner redeems the offer (by default the world's) for the member now: 10 % of 10 EUR.</summary>
        public async Task<RedemptionAck> RedeemAsync(string memberToken, string? offerId = null, DateTimeOffset? occurredAt = null)
        {
            _redemptionToken ??= await TokenAsync(ClientKind.Partner, PartnerId, "hlmhub.redemptions");
            var redemption = new RedemptionEvent
            {
                EventId = "evt-" + Guid.NewGuid().ToString("N"),
                OfferId = offerId ?? OfferId,
                MemberToken = memberToken,
                OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(occurredAt ?? TimeProvider.System.GetUtcNow()),
                PurchaseCents = 1_000,
                DiscountCents = 100,
            };
            return await new ServiceClient<RedemptionService.RedemptionServiceClient>(new RedemptionService.RedemptionServiceClient(_hub.Channel), _redemptionToken)
                .CallAsync((client, options) => client.RedeemAsync(redemption, options));
        }

        public async Task<Domain.FederationStatus> StoredAgreementStatusAsync(string agreementId)
        {
            await using var db = await DbAsync();
            return (await db.FederationAgreements.AsNoTracking().SingleAsync(agreement => agreement.Id == Guid.Parse(agreementId))).Status;
        }

        /// <summary>A household of <paramref name="landlordId"/>, written as a roster sync would; returns its member token.</summary>
        public async Task<string> AddHouseholdAsync(string landlordId, bool joined, bool active = true, string? clubId = null)
        {
            var now = TimeProvider.System.GetUtcNow();
            var token = "mt_" + Guid.NewGuid().ToString("N");
            var household = Domain.Household.Create(Guid.NewGuid(), landlordId, "REF-" + Guid.NewGuid().ToString("N")[..12], token, 3, false, now);
            if (!active)
            {
                household.Update(3, false, Domain.HouseholdStatus.Left, now);
            }

            await using var db = await DbAsync();
            db.Households.Add(household);
            await db.SaveChangesAsync();
            if (joined)
            {
                await JoinAsync(token, clubId);
            }

            return token;
        }

        /// <summary>The household opts into the club (by default the world's; the roster checked the landlord may).</summary>
        public async Task JoinAsync(string memberToken, string? clubId = null)
        {
            await using var db = await DbAsync();
            var household = await db.Households.SingleAsync(item => item.MemberToken == memberToken);
            var club = await db.Clubs.SingleAsync(item => item.Id == (clubId ?? ClubId));
            db.Memberships.Add(Domain.Membership.Join(club, Domain.Household.Create(household.Id, household.LandlordId, household.LandlordReference, household.MemberToken, household.Rooms, household.InQpv, TimeProvider.System.GetUtcNow()), landlordFederated: true, TimeProvider.System.GetUtcNow()));
            await db.SaveChangesAsync();
        }

        /// <summary>
        /// Another club of the host landlord, with a contract of the world's partner in it from <paramref name="startDate"/>
        /// (Europe/Paris) and one member. Returns the club, the contract and the member's token.
        /// </summary>
        public async Task<(string ClubId, string ContractId, string MemberToken)> AddClubWithContractAsync(DateOnly startDate)
        {
            var club = await Admin.CreateClubAsync(SampleData.Club(HostId));
            var request = SampleData.Contract(club.Id, PartnerId);
            request.StartDate = startDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            var contract = await Admin.CreateContractAsync(request);
            return (club.Id, contract.Id, await AddHouseholdAsync(HostId, joined: true, clubId: club.Id));
        }

        /// <summary>Moves a contract's first day in force, as if that day had come (the hub's clock cannot be moved here).</summary>
        public async Task SetContractStartDateAsync(string contractId, DateOnly startDate)
        {
            await using var db = await DbAsync();
            await db.Contracts.Where(contract => contract.Id == contractId).ExecuteUpdateAsync(setters => setters.SetProperty(contract => contract.StartDate, startDate));
        }

        /// <summary>The household leaves its landlord, the change stamped <paramref name="at"/> (by default the system clock's now).</summary>
        public async Task SetHouseholdLeftAsync(string memberToken, DateTimeOffset? at = null)
        {
            await using var db = await DbAsync();
            var household = await db.Households.SingleAsync(item => item.MemberToken == memberToken);
            household.Update(household.Rooms, household.InQpv, Domain.HouseholdStatus.Left, at ?? TimeProvider.System.GetUtcNow());
            await db.SaveChangesAsync();
        }

        private Task<HlmHubDbContext> DbAsync() => _hub.Services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>().CreateDbContextAsync();

        private async Task<string> TokenAsync(ClientKind kind, string boundTo, string scope)
        {
            var registered = await Admin.CallAsync((client, options) => client.RegisterClientAsync(new RegisterClientRequest
            {
                Kind = kind,
                DisplayName = $"{kind} {boundTo}",
                LandlordId = kind == ClientKind.Landlord ? boundTo : "",
                PartnerId = kind == ClientKind.Partner ? boundTo : "",
                Scopes = { scope },
            }, options));
            return await _hub.GetTokenAsync(registered.Client.ClientId, registered.ClientSecret);
        }
    }
}

/// <summary>Calls a generated grpc-dotnet client with a bearer token and the default test deadline.</summary>
internal sealed class ServiceClient<TClient>(TClient client, string accessToken)
{
    public async Task<TResponse> CallAsync<TResponse>(Func<TClient, CallOptions, AsyncUnaryCall<TResponse>> call)
    {
        using var pending = call(client, Options(CancellationToken.None));
        return await pending.ResponseAsync.DefaultTimeout();
    }

    public async Task<Status> FailsAsync<TResponse>(Func<TClient, CallOptions, AsyncUnaryCall<TResponse>> call)
    {
        var exception = await Assert.ThrowsAsync<RpcException>(() => CallAsync(call));
        return exception.Status;
    }

    public AsyncServerStreamingCall<EligibilityUpdate> Watch(WatchEligibilityRequest request, CancellationToken cancellationToken) =>
        client is EligibilityService.EligibilityServiceClient eligibility
            ? eligibility.Watch(request, Options(cancellationToken))
            : throw new InvalidOperationException("Watch is an EligibilityService rpc.");

    private CallOptions Options(CancellationToken cancellationToken) =>
        new(new Metadata { { "authorization", "Bearer " + accessToken } }, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.Add(TestTimeouts.Default), cancellationToken: cancellationToken);
}

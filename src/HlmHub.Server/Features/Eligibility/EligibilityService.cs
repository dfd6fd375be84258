using Google.Protobuf;
using Grpc.Core;
using HlmHub.Domain;
using HlmHub.Domain.Rules;
using HlmHub.Identity;
using HlmHub.Observability;
using HlmHub.Server.Features.Admin;
using HlmHub.Server.Hosting;
using HlmHub.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Eligibility;

/// <summary>
/// <c>hlmhub.v1.EligibilityService</c> (protos/hlmhub/v1/eligibility.proto): partners ask whether a member may use an
/// offer, watch eligibility changes in their clubs, and list their offers. Every answer comes from the domain's one
/// rule (<see cref="ClubEligibility"/>, <see cref="RedemptionRules.CheckAccess"/>) applied to what the database
/// holds at the time of the call: nothing is cached, so leaving takes effect on the next call.
/// </summary>
internal sealed class EligibilityService(
    IDbContextFactory<HlmHubDbContext> dbContextFactory,
    IOptions<EligibilityOptions> options,
    IOptions<HubHostOptions> hubLimits,
    CallerSlots<EligibilityService> watchStreams,
    IDataProtectionProvider dataProtection,
    HubMetrics metrics,
    IHostApplicationLifetime lifetime,
    TimeProvider timeProvider) : V1.EligibilityService.EligibilityServiceBase
{
    /// <summary>The scope every rpc of the service requires.</summary>
    public const string Scope = "hlmhub.offers.read";

    /// <summary>The status message of a <c>Watch</c> ended by the hub's shutdown.</summary>
    public const string ShuttingDown = "watch: the hub is shutting down; reconnect with the last cursor received (to another instance or after restart)";

    // EligibilityUpdate's fields 1 to 3: a one-byte tag each.
    private const int FieldTagSize = 1;

    private const string ClubsChanged = "watch: the clubs the partner has contracts in force with changed; reconnect without a cursor for a fresh snapshot";

    // Cheap to build (the key ring is the provider's, shared): the service is created per call.
    private readonly WatchCursors _cursors = new(dataProtection);

    private EligibilityOptions Limits => options.Value;

    [RpcPolicy(Scope, CallerKind.Partner, Ownership.OwnPartner)]
    public override async Task<V1.CheckEligibilityResponse> Check(V1.CheckEligibilityRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var partnerId = CallerPartner(context);
        var now = timeProvider.GetUtcNow();
        var response = new V1.CheckEligibilityResponse { CheckedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now) };
        // A control character is no one's token or offer id, and a NUL would fail the query itself on PostgreSQL
        // (INTERNAL instead of an answer): it is refused here, before anything is read.
        if (string.IsNullOrWhiteSpace(request.MemberToken) || request.MemberToken.Length > Domain.Limits.MemberTokenMaxLength
            || !PrintableText.Is(request.MemberToken)
            || string.IsNullOrWhiteSpace(request.OfferId) || request.OfferId.Length > Domain.Limits.SlugMaxLength
            || !PrintableText.Is(request.OfferId))
        {
            response.Reason = V1.EligibilityReason.Malformed;
            metrics.RecordEligibilityCheck(RejectionReason.Malformed);
            return response;
        }

        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var offer = await db.Offers.AsNoTracking().SingleOrDefaultAsync(item => item.Id == request.OfferId, cancellationToken);
        OfferVersion? version = null;
        Contract? contract = null;
        Household? household = null;
        var (isClubMember, isClubTenant) = (false, false);
        // Another partner's offer is answered like an unknown one, before anything about the member is read.
        if (offer is not null && offer.PartnerId == partnerId)
        {
            version = await db.OfferVersions.AsNoTracking()
                .SingleOrDefaultAsync(item => item.OfferId == offer.Id && item.Version == offer.CurrentVersion, cancellationToken);
            contract = await db.Contracts.AsNoTracking().SingleOrDefaultAsync(item => item.Id == offer.ContractId, cancellationToken);
            household = await db.Households.AsNoTracking().SingleOrDefaultAsync(item => item.MemberToken == request.MemberToken, cancellationToken);
            if (household is not null)
            {
                (isClubMember, isClubTenant) = await ClubStandingAsync(db, offer.ClubId, household, now, cancellationToken);
            }
        }

        var facts = new RedemptionFacts(offer, version, contract, household, isClubMember, PeriodUsage.None) { IsClubTenant = isClubTenant };
        var reason = RedemptionRules.CheckAccess(partnerId, now, facts);
        metrics.RecordEligibilityCheck(reason);
        response.Eligible = reason is null;
        response.Reason = ToProto(reason);
        if (version is not null)
        {
            response.OfferVersion = version.Version;
        }

        return response;
    }

    [RpcPolicy(Scope, CallerKind.Partner, Ownership.OwnPartner)]
    public override async Task Watch(V1.WatchEligibilityRequest request, IServerStreamWriter<V1.EligibilityUpdate> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var partnerId = CallerPartner(context);
        // A quiet stream writes nothing between polls: it ends when the partner's token expires all the same, and
        // when the hub shuts down (SIGTERM), at once rather than holding the drain (Hub:ShutdownDrainTimeout) until
        // it is cut off: the partner is told to reconnect with its cursor, which loses nothing.
        var caller = context.GetCaller();
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, caller.TokenExpired, lifetime.ApplicationStopping);
        var resumeFrom = _cursors.Read(partnerId, request.Cursor);
        using var slot = watchStreams.Acquire(
            partnerId,
            options.Value.MaxWatchStreamsPerPartner,
            "watch",
            static limit => $"the partner already has {limit} Watch streams open; {EligibilityOptions.SectionName}:{nameof(EligibilityOptions.MaxWatchStreamsPerPartner)} is {limit}");
        var clubs = await PartnerClubsAsync(partnerId, cancellationToken);
        var clubSet = WatchCursors.ClubSetOf(clubs.Keys);
        DateTimeOffset cursor;
        if (resumeFrom is { } resumed)
        {
            // The cursor's history covers the clubs it was issued for: a club gained since has none in it, a club
            // lost must drop out of the client's list. Either way only a snapshot is right.
            if (!resumed.ClubSet.AsSpan().SequenceEqual(clubSet))
            {
                throw new RpcException(new Status(StatusCode.Aborted, ClubsChanged));
            }

            cursor = resumed.Instant;
        }
        else
        {
            // The snapshot reads the state as of now; anything stamped after (now - settle delay) is looked at again
            // by the first window, so a change committing while the snapshot is read is never lost.
            cursor = timeProvider.GetUtcNow() - Limits.WatchSettleDelay;
            await SendAsync(clubs, window: null, snapshot: true, _cursors.Write(partnerId, cursor, clubSet), responseStream, cancellationToken);
        }

        while (true)
        {
            try
            {
                await Task.Delay(Limits.WatchPollInterval, timeProvider, watching.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                caller.ThrowIfTokenExpired();
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, ShuttingDown));
                }

                throw;
            }

            var current = await PartnerClubsAsync(partnerId, cancellationToken);
            if (!current.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(clubs.Keys))
            {
                // A club gained needs a snapshot, a club lost must stop: the client reconnects without a cursor.
                throw new RpcException(new Status(StatusCode.Aborted, ClubsChanged));
            }

            var horizon = timeProvider.GetUtcNow() - Limits.WatchSettleDelay;
            if (horizon < cursor)
            {
                // The clock is behind the cursor: it stepped back (an NTP correction, a resumed virtual machine), or the
                // cursor came from an instance whose clock runs ahead. Changes made from now on are stamped by this
                // clock, before the cursor, and a window starting at the cursor would never send them. Look back to a
                // poll interval before the horizon, which no change made since the step precedes: what the next window
                // sends again, it sends with its current value (entries are "set to").
                cursor = horizon - Limits.WatchPollInterval;
                continue;
            }

            if (horizon == cursor)
            {
                continue;
            }

            await SendAsync(clubs, (cursor, horizon), snapshot: false, _cursors.Write(partnerId, horizon, clubSet), responseStream, cancellationToken);
            cursor = horizon;
        }
    }

    [RpcPolicy(Scope, CallerKind.Partner, Ownership.OwnPartner)]
    public override async Task<V1.ListPartnerOffersResponse> ListOffers(V1.ListPartnerOffersRequest request, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var partnerId = CallerPartner(context);
        var page = AdminPaging.ReadAfterKey(request.PageSize, request.PageToken);
        var after = page.After;
        var now = timeProvider.GetUtcNow();
        var today = Period.DayOf(now);
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // The SQL filter is Contract.StatusAt's "not ended" (status, last day in force not passed, and not withdrawn
        // before its start: a last day before the first, which a suspended contract keeps with its status), so pages
        // stay full.
        var rows = await (
                from offer in db.Offers.AsNoTracking()
                join version in db.OfferVersions.AsNoTracking()
                    on new { OfferId = offer.Id, Version = offer.CurrentVersion } equals new { version.OfferId, version.Version }
                join contract in db.Contracts.AsNoTracking() on offer.ContractId equals contract.Id
                where offer.PartnerId == partnerId && offer.WithdrawnAt == null
                    && contract.Status != ContractStatus.Ended
                    && (contract.EndDate == null || (contract.EndDate >= today && contract.EndDate >= contract.StartDate))
                    && (after == null || string.Compare(offer.Id, after) > 0)
                orderby offer.Id
                select new { offer, version, contract })
            .Take(page.FetchCount)
            .ToListAsync(cancellationToken);
        var response = new V1.ListPartnerOffersResponse { NextPageToken = AdminPaging.NextAfterKeyToken(page, [.. rows.Select(row => row.offer.Id)]) };
        foreach (var row in rows.Take(page.Size))
        {
            var status = row.contract.StatusAt(now);
            response.Offers.Add(new V1.PartnerOffer
            {
                OfferId = row.offer.Id,
                ClubId = row.offer.ClubId,
                ContractId = row.offer.ContractId,
                Title = row.offer.Title,
                Version = row.version.Version,
                Terms = AdminMapping.ToProto(row.version.Terms),
                ContractStatus = AdminMapping.ToProto(status),
                RedeemableNow = status == ContractStatus.Active && row.contract.HasStartedAt(now) && EligibilityRules.IsWithinWindow(row.version.Terms, now),
            });
        }

        return response;
    }

    /// <summary>
    /// Sends one update: every household of <paramref name="clubs"/> (in member-token order, one keyset page per
    /// message, split in several where it would pass <c>Hub:MaxMessageSizeBytes</c>) that changed inside <paramref name="window"/> (null: all of them, for a snapshot), with its
    /// eligibility now in each of those clubs it has opted into at some point. Each (member token, club) appears once.
    /// The last message carries <paramref name="cursor"/>; an update that found nothing in its window sends nothing.
    /// </summary>
    private async Task SendAsync(
        IReadOnlyDictionary<string, string> clubs,
        (DateTimeOffset From, DateTimeOffset To)? window,
        bool snapshot,
        string cursor,
        IServerStreamWriter<V1.EligibilityUpdate> responseStream,
        CancellationToken cancellationToken)
    {
        var clubIds = clubs.Keys.ToList();
        var now = timeProvider.GetUtcNow();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        // The live agreements of these clubs: a handful per club (one per neighbouring landlord).
        var agreements = (await db.FederationAgreements.AsNoTracking()
                .Where(agreement => clubIds.Contains(agreement.ClubId) && agreement.Status != FederationStatus.Ended)
                .ToListAsync(cancellationToken))
            .ToDictionary(agreement => (agreement.ClubId, agreement.LandlordId));
        List<ClubLandlord> changedAgreements = window is { } range ? await WatchQueries.ChangedAgreements(db, clubIds, range).ToListAsync(cancellationToken) : [];
        string? after = null;
        var sentAny = false;
        // What the entries of one message may take: the send limit less the largest rest of a message (the snapshot flag
        // and the cursor).
        var entriesBudget = hubLimits.Value.MaxMessageSizeBytes
            - (CodedOutputStream.ComputeBoolSize(true) + CodedOutputStream.ComputeStringSize(cursor) + (2 * FieldTagSize));
        while (true)
        {
            var page = await WatchQueries.ChangedHouseholds(db, clubIds, window, changedAgreements, after, Limits.WatchPageSize).ToListAsync(cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            after = page[^1].MemberToken;
            var householdIds = page.Select(household => household.Id).ToList();
            var memberships = (await db.Memberships.AsNoTracking()
                    .Where(membership => householdIds.Contains(membership.HouseholdId) && clubIds.Contains(membership.ClubId))
                    .ToListAsync(cancellationToken))
                .ToLookup(membership => membership.HouseholdId);
            var update = new V1.EligibilityUpdate { Snapshot = snapshot };
            var entriesSize = 0;
            foreach (var household in page)
            {
                foreach (var membership in memberships[household.Id].OrderBy(item => item.ClubId, StringComparer.Ordinal))
                {
                    agreements.TryGetValue((membership.ClubId, household.LandlordId), out var agreement);
                    var eligible = ClubEligibility.IsEligible(
                        new ClubMemberFacts(clubs[membership.ClubId], household.LandlordId, household.Status, HasMembership: true,
                            membership.LeftAt, agreement?.Status, agreement?.EndedAt),
                        now);
                    // A snapshot lists the eligible members; an update says yes or no for each pair that changed.
                    if (eligible || !snapshot)
                    {
                        var entry = new V1.EligibilityEntry { MemberToken = household.MemberToken, ClubId = membership.ClubId, Eligible = eligible };
                        var entrySize = FieldTagSize + CodedOutputStream.ComputeMessageSize(entry);
                        // A page's size depends on how many of the partner's clubs each household is in, not on the page
                        // size alone: what would pass Hub:MaxMessageSizeBytes goes in a message of its own rather than
                        // end the stream (grpc-dotnet refuses to send a larger one).
                        if (update.Entries.Count > 0 && entriesSize + entrySize > entriesBudget)
                        {
                            await responseStream.WriteAsync(update, cancellationToken);
                            sentAny = true;
                            update = new V1.EligibilityUpdate { Snapshot = snapshot };
                            entriesSize = 0;
                        }

                        update.Entries.Add(entry);
                        entriesSize += entrySize;
                    }
                }
            }

            if (page.Count < Limits.WatchPageSize)
            {
                update.Cursor = cursor;
                await responseStream.WriteAsync(update, cancellationToken);
                return;
            }

            if (update.Entries.Count > 0)
            {
                await responseStream.WriteAsync(update, cancellationToken);
                sentAny = true;
            }
        }

        if (snapshot || sentAny)
        {
            await responseStream.WriteAsync(new V1.EligibilityUpdate { Snapshot = snapshot, Cursor = cursor }, cancellationToken);
        }
    }

    /// <summary>
    /// The clubs the partner has a contract in force with (started and not ended), each with its host landlord. A
    /// contract that has not started shows the partner no member yet; its first day in force changes the set, like a
    /// new contract, and ends the open streams with ABORTED.
    /// </summary>
    private async Task<Dictionary<string, string>> PartnerClubsAsync(string partnerId, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await using var db = await dbContextFactory.CreateDbContextAsync(cancellationToken);
        var contracts = await (
                from contract in db.Contracts.AsNoTracking()
                join club in db.Clubs.AsNoTracking() on contract.ClubId equals club.Id
                where contract.PartnerId == partnerId && contract.Status != ContractStatus.Ended
                select new { contract, club.HostLandlordId })
            .ToListAsync(cancellationToken);
        return contracts.Where(row => row.contract.StatusAt(now) != ContractStatus.Ended && row.contract.HasStartedAt(now))
            .GroupBy(row => row.contract.ClubId, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.First().HostLandlordId, StringComparer.Ordinal);
    }

    /// <summary>The one rule, on what the database holds for this household in this club now.</summary>
    /// <summary>Whether the household is an eligible member of the club now, and whether it is a tenant of one of its landlords.</summary>
    private static async Task<(bool IsMember, bool IsTenant)> ClubStandingAsync(
        HlmHubDbContext db, string clubId, Household household, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var hostLandlordId = await db.Clubs.AsNoTracking().Where(club => club.Id == clubId).Select(club => club.HostLandlordId).SingleAsync(cancellationToken);
        var membership = await db.Memberships.AsNoTracking()
            .SingleOrDefaultAsync(item => item.ClubId == clubId && item.HouseholdId == household.Id, cancellationToken);
        var agreement = await db.FederationAgreements.AsNoTracking()
            .Where(item => item.ClubId == clubId && item.LandlordId == household.LandlordId && item.Status != FederationStatus.Ended)
            .SingleOrDefaultAsync(cancellationToken);
        var facts = new ClubMemberFacts(hostLandlordId, household.LandlordId, household.Status, membership is not null, membership?.LeftAt, agreement?.Status, agreement?.EndedAt);
        return (ClubEligibility.IsEligible(facts, now), ClubEligibility.IsClubTenant(facts, now));
    }

    // The partner is the caller's own, by its token (never a request field): every query below filters on it.
    private static string CallerPartner(ServerCallContext context)
    {
        var caller = context.GetCaller();
        var partnerId = caller.PartnerId ?? "";
        caller.EnsureOwns(OwnerKind.Partner, partnerId);
        return partnerId;
    }

    private static V1.EligibilityReason ToProto(RejectionReason? reason) => reason switch
    {
        null => V1.EligibilityReason.Unspecified,
        RejectionReason.UnknownMember => V1.EligibilityReason.UnknownMember,
        RejectionReason.NotAMember => V1.EligibilityReason.NotAMember,
        RejectionReason.OfferNotActive => V1.EligibilityReason.OfferNotActive,
        RejectionReason.ContractSuspended => V1.EligibilityReason.ContractSuspended,
        RejectionReason.NotYourOffer => V1.EligibilityReason.NotYourOffer,
        RejectionReason.OutsideWindow => V1.EligibilityReason.OutsideWindow,
        RejectionReason.NotEligible => V1.EligibilityReason.NotEligible,
        _ => V1.EligibilityReason.Malformed,
    };
}

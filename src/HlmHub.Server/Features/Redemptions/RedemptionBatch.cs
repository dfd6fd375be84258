using HlmHub.Domain;
using HlmHub.Domain.Ledger;
using HlmHub.Domain.Rules;
using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Redemptions;

/// <summary>One partner event as received: the partner comes from the caller's token, never from the message.</summary>
internal sealed record RedemptionSubmission(string PartnerId, V1.RedemptionEvent Event);

/// <summary>
/// Decides one batch of events and then writes, in the caller's database transaction, what it decided: the
/// redemptions (accepted and rejected, so a resend gets the first answer), their ledger transactions, the cap
/// counters and any ledger account used for the first time. Everything the rules need is read in a few set-based queries per batch,
/// then events are decided one after the other in the order received, each seeing the ones before it (a duplicate
/// within the batch, a cap spent by an earlier event). Nothing is cached between batches: a household that left, an
/// offer withdrawn or a contract suspended takes effect on the next batch.
/// </summary>
internal sealed class RedemptionBatch
{
    private readonly HlmHubDbContext _db;
    private readonly RedemptionOptions _limits;
    private readonly DateTimeOffset _now;
    private readonly Func<string, int> _rejectionAllowance;
    private readonly Dictionary<string, int> _rejectionsStored = new(StringComparer.Ordinal);
    private readonly Dictionary<(string PartnerId, string EventId), Redemption> _byEvent = [];
    private readonly Dictionary<Guid, Redemption> _cancellationOf = [];
    private readonly Dictionary<Guid, string> _eventIdOfRedemption = [];
    private readonly Dictionary<string, LedgerTransaction> _transactionByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<(Guid HouseholdId, string OfferId, Period Period), RedemptionUsage> _usage = [];
    private readonly HashSet<string> _accountsNeeded = new(StringComparer.Ordinal);
    private readonly List<LedgerAccount> _accountsToCreate = [];
    private readonly List<Redemption> _newRedemptions = [];
    private readonly List<LedgerTransaction> _newTransactions = [];
    private Dictionary<string, Offer> _offers = new(StringComparer.Ordinal);
    private Dictionary<(string OfferId, int Version), OfferVersion> _versions = [];
    private Dictionary<string, Contract> _contracts = new(StringComparer.Ordinal);
    private Dictionary<string, string> _clubHosts = new(StringComparer.Ordinal);
    private Dictionary<string, Household> _households = new(StringComparer.Ordinal);
    private HashSet<(string ClubId, Guid HouseholdId)> _activeMemberships = [];
    private Dictionary<(string ClubId, string LandlordId), List<FederationAgreement>> _agreements = [];
    private Dictionary<string, List<Period>> _closedPeriods = new(StringComparer.Ordinal);

    private RedemptionBatch(HlmHubDbContext db, RedemptionOptions limits, DateTimeOffset now, Func<string, int> rejectionAllowance)
    {
        _db = db;
        _limits = limits;
        _now = now;
        _rejectionAllowance = rejectionAllowance;
    }

    /// <summary>What a batch decided: one acknowledgement per item, in order, and the rejected events it stored per partner.</summary>
    public sealed record Decided(V1.RedemptionAck[] Acks, IReadOnlyDictionary<string, int> RejectionsStored);

    /// <summary>
    /// Decides <paramref name="items"/> and writes what they change through <paramref name="db"/>, inside the
    /// caller's database transaction (the caller commits). <paramref name="rejectionAllowance"/> says how many more
    /// rejected events of a partner may be stored today (<see cref="StoredRejections"/>).
    /// </summary>
    public static async Task<Decided> DecideAndWriteAsync(
        HlmHubDbContext db, IReadOnlyList<RedemptionSubmission> items, RedemptionOptions limits, DateTimeOffset now,
        Func<string, int> rejectionAllowance, CancellationToken cancellationToken)
    {
        var batch = new RedemptionBatch(db, limits, now, rejectionAllowance);
        var events = items.Select(item => ReceivedEvent.From(item)).ToList();
        await batch.LoadAsync(events, cancellationToken);
        var acks = new V1.RedemptionAck[events.Count];
        for (var index = 0; index < events.Count; index++)
        {
            acks[index] = batch.Decide(events[index]);
        }

        await batch.StageAccountsAsync(cancellationToken);
        await batch.WriteAsync(cancellationToken);
        return new Decided(acks, batch._rejectionsStored);
    }

    /// <summary>
    /// The accounts used for the first time and the cap counters (version-checked: another instance that spent the
    /// same cap first makes this fail, and the batch is decided again) go through <c>SaveChanges</c>. The batch's
    /// new rows, up to thousands, follow as multi-row inserts: one <c>INSERT</c> per row, as <c>SaveChanges</c> sends
    /// them, cost the hub more than the database's own work (docs/benchmarks.md, the redemption profile).
    /// Each list is written in the order decided, so a cancellation follows the redemption it cancels and a reversal
    /// the transaction it reverses.
    /// </summary>
    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        _db.ChangeTracker.DetectChanges();
        await _db.SaveChangesAsync(cancellationToken);
        await _db.InsertAllAsync(_newRedemptions, cancellationToken);
        await _db.InsertLedgerTransactionsAsync(_newTransactions, cancellationToken);
    }

    private async Task LoadAsync(List<ReceivedEvent> events, CancellationToken cancellationToken)
    {
        var partnerIds = events.Select(item => item.PartnerId).Distinct(StringComparer.Ordinal).ToList();
        // Only what can be stored goes into a query (Decide answers the rest MALFORMED): one partner's unusable id must
        // not fail the statement that other partners' events share.
        var eventIds = events.Select(item => item.EventId).Concat(events.Select(item => item.CancelsEventId))
            .Where(id => id.Length is > 0 and <= Limits.PartnerEventIdMaxLength && PrintableText.Is(id))
            .Distinct(StringComparer.Ordinal)
            .ToList();

        // Earlier events: resends, and the redemptions cancellations refer to.
        var known = eventIds.Count == 0 ? [] : await _db.Redemptions.AsNoTracking()
            .Where(redemption => partnerIds.Contains(redemption.PartnerId) && eventIds.Contains(redemption.PartnerEventId))
            .ToListAsync(cancellationToken);
        foreach (var redemption in known)
        {
            Remember(redemption);
        }

        // Whether those redemptions are already cancelled, and which event a stored cancellation cancelled.
        // (A query for nothing is skipped: most batches are new events only, and each query costs the loop time.)
        var knownIds = known.Select(redemption => redemption.Id).ToList();
        foreach (var cancellation in knownIds.Count == 0 ? [] : await _db.Redemptions.AsNoTracking()
                     .Where(redemption => redemption.CancelsRedemptionId != null && knownIds.Contains(redemption.CancelsRedemptionId.Value))
                     .ToListAsync(cancellationToken))
        {
            Remember(cancellation);
        }

        var cancelledIds = _byEvent.Values.Where(redemption => redemption.CancelsRedemptionId is not null)
            .Select(redemption => redemption.CancelsRedemptionId!.Value)
            .Where(id => !_eventIdOfRedemption.ContainsKey(id))
            .ToList();
        foreach (var original in cancelledIds.Count == 0 ? [] : await _db.Redemptions.AsNoTracking().Where(redemption => cancelledIds.Contains(redemption.Id)).ToListAsync(cancellationToken))
        {
            Remember(original);
        }

        // The originals that new cancellations reverse: their ledger transactions.
        var originals = events.Where(item => item.IsCancellation && !_byEvent.ContainsKey((item.PartnerId, item.EventId)))
            .Select(item => _byEvent.GetValueOrDefault((item.PartnerId, item.CancelsEventId)))
            .OfType<Redemption>()
            .ToList();
        var originalKeys = originals.Select(original => IdempotencyKeys.Redemption(original.Id)).ToList();
        foreach (var transaction in originalKeys.Count == 0 ? [] : await _db.LedgerTransactions.AsNoTracking().Include(transaction => transaction.Entries)
                     .Where(transaction => originalKeys.Contains(transaction.IdempotencyKey))
                     .ToListAsync(cancellationToken))
        {
            _transactionByKey[transaction.IdempotencyKey] = transaction;
        }

        // What the rules need for new redemptions (and the offers of cancelled ones, for their caps).
        var offerIds = events.Where(item => !item.IsCancellation).Select(item => item.OfferId)
            .Concat(originals.Select(original => original.OfferId ?? ""))
            .Where(id => id.Length is > 0 and <= Limits.SlugMaxLength && PrintableText.Is(id))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        _offers = await _db.Offers.AsNoTracking().Where(offer => offerIds.Contains(offer.Id)).ToDictionaryAsync(offer => offer.Id, StringComparer.Ordinal, cancellationToken);
        _versions = (await _db.OfferVersions.AsNoTracking().Where(version => offerIds.Contains(version.OfferId)).ToListAsync(cancellationToken))
            .ToDictionary(version => (version.OfferId, version.Version));
        var contractIds = _offers.Values.Select(offer => offer.ContractId).Distinct(StringComparer.Ordinal).ToList();
        _contracts = await _db.Contracts.AsNoTracking().Where(contract => contractIds.Contains(contract.Id))
            .ToDictionaryAsync(contract => contract.Id, StringComparer.Ordinal, cancellationToken);
        var clubIds = _offers.Values.Select(offer => offer.ClubId).Concat(originals.Select(original => original.ClubId).OfType<string>())
            .Distinct(StringComparer.Ordinal).ToList();
        // Read with the booking side of the clubs' month lock (RowLocks), before their closed months are read below: a
        // close of one of these clubs either waits for this batch's commit (and then sees what it booked), or has
        // committed before that read, which then sees its closure. The same statement as an unlocked read on PostgreSQL
        // (FOR KEY SHARE added) and on SQLite (whose transaction holds the write lock already).
        _clubHosts = (await RowLocks.ReadClubsForBookingAsync(_db, clubIds, cancellationToken))
            .ToDictionary(club => club.Id, club => club.HostLandlordId, StringComparer.Ordinal);
        var tokens = events.Where(item => !item.IsCancellation).Select(item => item.MemberToken)
            .Where(token => token.Length is > 0 and <= Limits.MemberTokenMaxLength && PrintableText.Is(token))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        _households = await _db.Households.AsNoTracking().Where(household => tokens.Contains(household.MemberToken))
            .ToDictionaryAsync(household => household.MemberToken, StringComparer.Ordinal, cancellationToken);
        var householdIds = _households.Values.Select(household => household.Id).ToList();
        _activeMemberships = (await _db.Memberships.AsNoTracking()
                .Where(membership => clubIds.Contains(membership.ClubId) && householdIds.Contains(membership.HouseholdId) && membership.LeftAt == null)
                .Select(membership => new { membership.ClubId, membership.HouseholdId })
                .ToListAsync(cancellationToken))
            .Select(membership => (membership.ClubId, membership.HouseholdId))
            .ToHashSet();
        // Every agreement that was ever accepted, ended ones too: an event is judged as of its occurred_at, when an
        // agreement since ended (at once, or by notice and since recorded as ended) may have been in force.
        _agreements = (await _db.FederationAgreements.AsNoTracking()
                .Where(agreement => clubIds.Contains(agreement.ClubId) && agreement.AcceptedAt != null)
                .ToListAsync(cancellationToken))
            .GroupBy(agreement => (agreement.ClubId, agreement.LandlordId))
            .ToDictionary(group => group.Key, group => group.ToList());
        _closedPeriods = (await _db.PeriodClosures.AsNoTracking().Where(closure => clubIds.Contains(closure.ClubId))
                .Select(closure => new { closure.ClubId, closure.Period })
                .ToListAsync(cancellationToken))
            .GroupBy(closure => closure.ClubId, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Select(closure => closure.Period).ToList(), StringComparer.Ordinal);

        // Cap counters of capped offers, tracked: accepting or cancelling updates them, version-checked.
        var cappedOfferIds = _offers.Values.Where(offer => _versions.Keys.Any(key => key.OfferId == offer.Id && IsCapped(_versions[key].Terms)))
            .Select(offer => offer.Id)
            .ToList();
        var usageHouseholds = householdIds.Concat(originals.Where(original => original.HouseholdId is not null).Select(original => original.HouseholdId!.Value))
            .Distinct()
            .ToList();
        if (cappedOfferIds.Count > 0 && usageHouseholds.Count > 0)
        {
            foreach (var usage in await _db.RedemptionUsages
                         .Where(usage => cappedOfferIds.Contains(usage.OfferId) && usageHouseholds.Contains(usage.HouseholdId))
                         .ToListAsync(cancellationToken))
            {
                _usage[(usage.HouseholdId, usage.OfferId, usage.Period)] = usage;
            }
        }
    }

    private V1.RedemptionAck Decide(ReceivedEvent received)
    {
        if (received.EventId.Length is 0 or > Limits.PartnerEventIdMaxLength || !PrintableText.Is(received.EventId)
            || char.IsWhiteSpace(received.EventId[0]) || char.IsWhiteSpace(received.EventId[^1]))
        {
            // Without a usable event id nothing can be stored under it: answered, never recorded. Spaces at either
            // end are refused: SQL Server's comparisons ignore trailing spaces, so "e1 " would collide there with
            // "e1" in the unique index while the batch's own look-up tells them apart.
            return RedemptionAcks.Refused(received.EventId, RejectionReason.Malformed,
                $"event_id is required: 1 to {Limits.PartnerEventIdMaxLength} printable characters, not beginning or ending with a space");
        }

        if (received.UnprintableField() is { } field)
        {
            // Not recorded either: the row would carry the value, and the database may refuse it (PostgreSQL a NUL).
            return RedemptionAcks.Refused(received.EventId, RejectionReason.Malformed,
                $"{field} must be printable text: it holds a control character");
        }

        if (_byEvent.TryGetValue((received.PartnerId, received.EventId), out var first))
        {
            var storedCancels = first.CancelsRedemptionId is { } cancelled ? _eventIdOfRedemption.GetValueOrDefault(cancelled) : null;
            return received.HasSamePayloadAs(first, storedCancels)
                ? RedemptionAcks.Duplicate(first, received.EventId)
                : RedemptionAcks.Conflict(first, received.EventId);
        }

        return received.IsCancellation ? DecideCancellation(received) : DecideRedemption(received);
    }

    private V1.RedemptionAck DecideRedemption(ReceivedEvent received)
    {
        var offer = _offers.GetValueOrDefault(received.OfferId);
        // An instant outside the supported years is malformed (below); it is recorded in the month it arrived.
        var occurredAt = received.OccurredAt is { } sent && Period.Supports(sent) ? sent : _now;
        var version = offer is null ? null : VersionAt(offer, occurredAt);
        var contract = offer is null ? null : _contracts.GetValueOrDefault(offer.ContractId);
        // Another partner's offer is answered like an unknown one: nothing about its member is looked at.
        var household = offer is not null && offer.PartnerId == received.PartnerId ? _households.GetValueOrDefault(received.MemberToken) : null;
        var (isMember, isTenant) = offer is not null && household is not null ? ClubStanding(offer.ClubId, household, occurredAt) : (false, false);
        var usagePeriod = Period.Of(occurredAt);
        var usage = household is not null && offer is not null ? _usage.GetValueOrDefault((household.Id, offer.Id, usagePeriod)) : null;
        var facts = new RedemptionFacts(offer, version, contract, household, isMember, usage?.AsPeriodUsage ?? PeriodUsage.None) { IsClubTenant = isTenant };
        var request = new RedemptionRequest(received.PartnerId, received.EventId, received.OfferId, received.MemberToken, occurredAt,
            new Money(received.PurchaseCents), new Money(received.DiscountCents));

        string? malformed = received.MalformedBecause(_now, _limits.MaxClockSkew);
        var decision = malformed is null ? RedemptionRules.Decide(request, facts) : RedemptionDecision.Reject(RejectionReason.Malformed);
        var clubId = decision.Reason is RejectionReason.NotYourOffer or RejectionReason.Malformed ? null : offer?.ClubId;
        var bookingPeriod = clubId is null ? usagePeriod : PeriodRules.BookingPeriod(usagePeriod, _closedPeriods.GetValueOrDefault(clubId) ?? []);
        var redemption = Redemption.Record(Guid.CreateVersion7(_now), request, facts, decision, bookingPeriod, _now);
        if (decision.Outcome == RedemptionOutcome.Rejected)
        {
            var stored = _rejectionsStored.GetValueOrDefault(received.PartnerId);
            if (stored >= _rejectionAllowance(received.PartnerId))
            {
                // Over the partner's quota for today: answered as it would be, nothing written.
                var unstored = RedemptionAcks.First(redemption, malformed);
                unstored.RedemptionId = "";
                unstored.Message += $" (not stored: Redemptions:MaxStoredRejectionsPerPartnerPerDay is {_limits.MaxStoredRejectionsPerPartnerPerDay}, "
                    + "reached today; a resend of this event is decided again)";
                return unstored;
            }

            _rejectionsStored[received.PartnerId] = stored + 1;
        }

        _newRedemptions.Add(redemption);
        Remember(redemption);
        if (decision.Outcome == RedemptionOutcome.Accepted)
        {
            var terms = version!.Terms;
            if (IsCapped(terms))
            {
                UsageFor(household!.Id, offer!.Id, usagePeriod).Add(decision.ComputedDiscount);
            }

            if (RedemptionBooking.Transaction(Guid.CreateVersion7(_now), redemption, terms, _now) is { } transaction)
            {
                Book(transaction, RedemptionBooking.Accounts(redemption.ClubId!, redemption.PartnerId));
            }
        }

        return RedemptionAcks.First(redemption, malformed);
    }

    /// <summary>
    /// The version of <paramref name="offer"/> in force at <paramref name="instant"/>: the last one created by then (the
    /// first, for an instant before it). A till that uploads at the end of the day is judged by the terms it applied,
    /// not by a revision made in the afternoon. At the present instant this is the current version, as Check answers.
    /// </summary>
    private OfferVersion? VersionAt(Offer offer, DateTimeOffset instant)
    {
        OfferVersion? earliest = null;
        for (var number = offer.CurrentVersion; number >= 1; number--)
        {
            if (_versions.GetValueOrDefault((offer.Id, number)) is not { } version)
            {
                continue;
            }

            if (version.CreatedAt <= instant)
            {
                return version;
            }

            earliest = version;
        }

        return earliest;
    }

    private V1.RedemptionAck DecideCancellation(ReceivedEvent received)
    {
        if (received.MalformedBecause(_now, _limits.MaxClockSkew) is { } malformed)
        {
            return RedemptionAcks.Refused(received.EventId, RejectionReason.Malformed, malformed);
        }

        if (_byEvent.GetValueOrDefault((received.PartnerId, received.CancelsEventId)) is not { Kind: RedemptionKind.Redemption, Outcome: RedemptionOutcome.Accepted } original)
        {
            // Not recorded: the original may still arrive (events can overtake each other), and then a resend works.
            return RedemptionAcks.Refused(received.EventId, RejectionReason.Malformed,
                $"cancels_event_id '{received.CancelsEventId}' is not an accepted redemption of yours: nothing to cancel");
        }

        if (_cancellationOf.TryGetValue(original.Id, out var earlier))
        {
            // Cancelling twice is a duplicate: the answer of the cancellation that took effect.
            return RedemptionAcks.Duplicate(earlier, received.EventId);
        }

        var occurredAt = received.OccurredAt ?? _now;
        if (occurredAt < original.OccurredAt - _limits.MaxClockSkew)
        {
            // Dated before what it cancels, it would reverse the discount in an earlier month (any open one, back to
            // 2000) that never had the redemption, and leave the redemption's own month as if nothing were cancelled.
            // Two tills' clocks may differ by the skew the hub accepts. Not recorded: a resend with the right date works.
            return RedemptionAcks.Refused(received.EventId, RejectionReason.Malformed,
                $"occurred_at {occurredAt:yyyy-MM-ddTHH:mm:ss.fffZ} is before the redemption it cancels ({original.OccurredAt:yyyy-MM-ddTHH:mm:ss.fffZ}): a cancellation comes after it");
        }

        // Within the skew, never in a month before the redemption's own.
        occurredAt = occurredAt < original.OccurredAt ? original.OccurredAt : occurredAt;

        var bookingPeriod = PeriodRules.BookingPeriod(Period.Of(occurredAt), _closedPeriods.GetValueOrDefault(original.ClubId!) ?? []);
        var cancellation = Redemption.Cancel(Guid.CreateVersion7(_now), received.EventId, original, alreadyCancelled: false, occurredAt, bookingPeriod, _now);
        _newRedemptions.Add(cancellation);
        Remember(cancellation);
        var originalTerms = original.OfferId is { } offerId && original.OfferVersion is { } versionNumber
            ? _versions.GetValueOrDefault((offerId, versionNumber))?.Terms
            : null;
        if (originalTerms is not null && IsCapped(originalTerms) && original.HouseholdId is { } householdId)
        {
            UsageFor(householdId, original.OfferId!, Period.Of(original.OccurredAt)).Remove(original.ComputedDiscount);
        }

        if (_transactionByKey.GetValueOrDefault(IdempotencyKeys.Redemption(original.Id)) is { } booked)
        {
            var reversal = booked.Reverse(Guid.CreateVersion7(_now), bookingPeriod,
                $"Cancellation {received.EventId} of redemption {original.PartnerEventId} by {original.PartnerId}", _now);
            Book(reversal, RedemptionBooking.Accounts(original.ClubId!, original.PartnerId));
        }

        return RedemptionAcks.First(cancellation, malformedBecause: null);
    }

    /// <summary>Whether the household is an eligible member of the club, and whether it is a tenant of one of its landlords.</summary>
    private (bool IsMember, bool IsTenant) ClubStanding(string clubId, Household household, DateTimeOffset instant)
    {
        if (!_clubHosts.TryGetValue(clubId, out var hostLandlordId))
        {
            return (false, false);
        }

        var hasMembership = _activeMemberships.Contains((clubId, household.Id));
        // The agreement in force at the event's instant: accepted by then and not ended by then, whatever its row says
        // now. (The household's opt-in and status are read as they are now: the roster tells the hub of them late.)
        var inForce = _agreements.GetValueOrDefault((clubId, household.LandlordId))?
            .FirstOrDefault(agreement => agreement.AcceptedAt <= instant && (agreement.EndedAt is not { } end || instant < end));
        var facts = new ClubMemberFacts(hostLandlordId, household.LandlordId, household.Status, hasMembership, MembershipLeftAt: null,
            inForce is null ? null : FederationStatus.Active, inForce?.EndedAt);
        return (ClubEligibility.IsEligible(facts, instant), ClubEligibility.IsClubTenant(facts, instant));
    }

    private RedemptionUsage UsageFor(Guid householdId, string offerId, Period period)
    {
        if (!_usage.TryGetValue((householdId, offerId, period), out var usage))
        {
            usage = RedemptionUsage.Start(householdId, offerId, period);
            _db.RedemptionUsages.Add(usage);
            _usage[(householdId, offerId, period)] = usage;
        }

        return usage;
    }

    private void Book(LedgerTransaction transaction, IReadOnlyList<LedgerAccount> accounts)
    {
        _newTransactions.Add(transaction);
        _transactionByKey[transaction.IdempotencyKey] = transaction;
        foreach (var account in accounts)
        {
            if (transaction.Entries.Any(entry => entry.AccountId == account.Id) && _accountsNeeded.Add(account.Id))
            {
                _accountsToCreate.Add(account);
            }
        }
    }

    /// <summary>Ledger accounts are created on first use, in the same transaction as the first posting to them.</summary>
    private async Task StageAccountsAsync(CancellationToken cancellationToken)
    {
        if (_accountsToCreate.Count == 0)
        {
            return;
        }

        var ids = _accountsToCreate.Select(account => account.Id).ToList();
        var existing = (await _db.LedgerAccounts.AsNoTracking().Where(account => ids.Contains(account.Id)).Select(account => account.Id)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        _db.LedgerAccounts.AddRange(_accountsToCreate.Where(account => !existing.Contains(account.Id)));
    }

    private void Remember(Redemption redemption)
    {
        _byEvent[(redemption.PartnerId, redemption.PartnerEventId)] = redemption;
        _eventIdOfRedemption[redemption.Id] = redemption.PartnerEventId;
        if (redemption.CancelsRedemptionId is { } cancelled)
        {
            _cancellationOf[cancelled] = redemption;
        }
    }

    private static bool IsCapped(OfferTerms terms) => terms.CapCountPerPeriod is not null || terms.CapAmountPerPeriod is not null;
}

using HlmHub.Domain.Rules;

namespace HlmHub.Domain;

/// <summary>The outcome of a redemption as recorded; a duplicate is not recorded again (it gets the first answer).</summary>
public enum RedemptionOutcome
{
    /// <summary>Accepted and booked.</summary>
    Accepted,

    /// <summary>Refused, with a <see cref="RejectionReason"/>.</summary>
    Rejected,

    /// <summary>
    /// The answer to a retry of an event already recorded (same partner and event id): never stored, the API
    /// returns it with the recorded redemption's amounts.
    /// </summary>
    Duplicate,
}

/// <summary>Why a redemption was refused (DESIGN.md §2), plus <see cref="NotEligible"/>.</summary>
public enum RejectionReason
{
    /// <summary>No household has this member token.</summary>
    UnknownMember,

    /// <summary>The household is not (or no longer) a member of the offer's club.</summary>
    NotAMember,

    /// <summary>The offer is withdrawn or its contract has ended.</summary>
    OfferNotActive,

    /// <summary>The partner's contract is suspended.</summary>
    ContractSuspended,

    /// <summary>The household's cap for the period would be exceeded.</summary>
    CapExceeded,

    /// <summary>The discount the partner claims differs from the one the hub computes.</summary>
    DiscountMismatch,

    /// <summary>The offer does not exist or belongs to another partner.</summary>
    NotYourOffer,

    /// <summary>It happened outside the offer's validity window.</summary>
    OutsideWindow,

    /// <summary>The request is incomplete or inconsistent.</summary>
    Malformed,

    /// <summary>
    /// The member does not meet the offer's eligibility (rooms range, QPV only, no tariff for its rooms). Not in
    /// DESIGN.md's list, which has no code for it; kept distinct so a partner can tell the member why.
    /// </summary>
    NotEligible,
}

/// <summary>Whether the event redeems an offer or cancels an earlier redemption.</summary>
public enum RedemptionKind
{
    /// <summary>A member used an offer.</summary>
    Redemption,

    /// <summary>Cancels (reverses) an earlier accepted redemption of the same partner.</summary>
    Cancellation,
}

/// <summary>What a partner reports: a member used an offer.</summary>
public sealed record RedemptionRequest(
    string PartnerId,
    string PartnerEventId,
    string OfferId,
    string MemberToken,
    DateTimeOffset OccurredAt,
    Money PurchaseAmount,
    Money ClaimedDiscount);

/// <summary>What the hub knows when deciding: everything looked up for the request (null when not found).</summary>
public sealed record RedemptionFacts(
    Offer? Offer,
    OfferVersion? OfferVersion,
    Contract? Contract,
    Household? Household,
    bool IsClubMember,
    PeriodUsage UsageInPeriod)
{
    /// <summary>
    /// Whether the household is a tenant of a landlord taking part in the offer's club at the instant
    /// (<see cref="Rules.ClubEligibility.IsClubTenant"/>), opted in or not: an offer that is not members-only is open to
    /// these. Defaults to <see cref="IsClubMember"/> (a member is one), so facts that do not say are never more open.
    /// </summary>
    public bool IsClubTenant { get; init; } = IsClubMember;
}

/// <summary>The hub's answer.</summary>
public sealed record RedemptionDecision(RedemptionOutcome Outcome, RejectionReason? Reason, Money ComputedDiscount)
{
    /// <summary>A rejection.</summary>
    public static RedemptionDecision Reject(RejectionReason reason, Money computedDiscount = default) =>
        new(RedemptionOutcome.Rejected, reason, computedDiscount);
}

/// <summary>The decision on a redemption, as a pure function of the request and the facts.</summary>
public static class RedemptionRules
{
    /// <summary>
    /// Whether <paramref name="partnerId"/> may have the facts' household use the facts' offer at
    /// <paramref name="instant"/>, before any amount is looked at: null when it may, else the first reason in the
    /// order of <see cref="Decide"/> (not your offer, offer not active, contract suspended, outside window, unknown
    /// member, not a member, not eligible). The eligibility check answers with it; a redemption starts with it.
    /// </summary>
    public static RejectionReason? CheckAccess(string partnerId, DateTimeOffset instant, RedemptionFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.Offer is not { } offer || facts.OfferVersion is not { } version || offer.PartnerId != partnerId
            || version.OfferId != offer.Id)
        {
            return RejectionReason.NotYourOffer;
        }

        // The contract's status as of the instant: an end date that has passed ends it even if nothing recorded so.
        // Before its first day in force, a contract offers nothing yet.
        if (offer.WithdrawnAt is not null || facts.Contract is not { } contract || contract.StatusAt(instant) == ContractStatus.Ended
            || !contract.HasStartedAt(instant))
        {
            return RejectionReason.OfferNotActive;
        }

        if (contract.StatusAt(instant) == ContractStatus.Suspended)
        {
            return RejectionReason.ContractSuspended;
        }

        var terms = version.Terms;
        if (!EligibilityRules.IsWithinWindow(terms, instant))
        {
            return RejectionReason.OutsideWindow;
        }

        if (facts.Household is not { } household)
        {
            return RejectionReason.UnknownMember;
        }

        if (EligibilityRules.Check(terms, household, facts.IsClubMember, facts.IsClubTenant) is { } ineligible)
        {
            return ineligible;
        }

        // A room tariff without a line for the household's rooms has nothing to offer it, whatever the purchase.
        return DiscountRules.Compute(terms, Money.Zero, household.Rooms) is null ? RejectionReason.NotEligible : null;
    }

    /// <summary>
    /// Decides in a fixed order, so the same request and facts always give the same reason: malformed, not your
    /// offer, offer not active, contract suspended, outside window, unknown member, not a member, not eligible,
    /// discount mismatch, cap exceeded.
    /// </summary>
    public static RedemptionDecision Decide(RedemptionRequest request, RedemptionFacts facts)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(facts);
        if (string.IsNullOrWhiteSpace(request.PartnerEventId) || request.PartnerEventId.Length > Limits.PartnerEventIdMaxLength
            || string.IsNullOrWhiteSpace(request.MemberToken) || string.IsNullOrWhiteSpace(request.OfferId)
            || request.PurchaseAmount.Cents < 0 || request.ClaimedDiscount.Cents < 0)
        {
            return RedemptionDecision.Reject(RejectionReason.Malformed);
        }

        if (CheckAccess(request.PartnerId, request.OccurredAt, facts) is { } refused)
        {
            return RedemptionDecision.Reject(refused);
        }

        var terms = facts.OfferVersion!.Terms;
        var household = facts.Household!;
        if (DiscountRules.Compute(terms, request.PurchaseAmount, household.Rooms) is not { } computed)
        {
            return RedemptionDecision.Reject(RejectionReason.NotEligible);
        }

        if (computed != request.ClaimedDiscount)
        {
            return RedemptionDecision.Reject(RejectionReason.DiscountMismatch, computed);
        }

        if (!CapRules.Allows(terms, facts.UsageInPeriod, computed))
        {
            return RedemptionDecision.Reject(RejectionReason.CapExceeded, computed);
        }

        return new RedemptionDecision(RedemptionOutcome.Accepted, null, computed);
    }
}

/// <summary>
/// A partner's event as recorded by the hub: a redemption or a cancellation, accepted or rejected. One per
/// (partner, partner event id): a retry of the same event gets the recorded answer.
/// </summary>
public sealed class Redemption
{
    private Redemption()
    {
        PartnerId = "";
        PartnerEventId = "";
        MemberToken = "";
    }

    /// <summary>The hub's id.</summary>
    public Guid Id { get; private set; }

    /// <summary>The partner.</summary>
    public string PartnerId { get; private set; }

    /// <summary>The partner's event id (its idempotency key).</summary>
    public string PartnerEventId { get; private set; }

    /// <summary>Redemption or cancellation.</summary>
    public RedemptionKind Kind { get; private set; }

    /// <summary>The club of the offer; null when the offer was not found.</summary>
    public string? ClubId { get; private set; }

    /// <summary>The offer, when found.</summary>
    public string? OfferId { get; private set; }

    /// <summary>The offer version the decision used, when found.</summary>
    public int? OfferVersion { get; private set; }

    /// <summary>The member token the partner sent.</summary>
    public string MemberToken { get; private set; }

    /// <summary>The household, when the token is known.</summary>
    public Guid? HouseholdId { get; private set; }

    /// <summary>When it happened, by the partner's clock.</summary>
    public DateTimeOffset OccurredAt { get; private set; }

    /// <summary>When the hub received it.</summary>
    public DateTimeOffset ReceivedAt { get; private set; }

    /// <summary>The period it is booked in (of <see cref="OccurredAt"/>, unless that period was closed).</summary>
    public Period Period { get; private set; }

    /// <summary>The purchase amount.</summary>
    public Money PurchaseAmount { get; private set; }

    /// <summary>The discount the partner claims.</summary>
    public Money ClaimedDiscount { get; private set; }

    /// <summary>The discount the hub computed.</summary>
    public Money ComputedDiscount { get; private set; }

    /// <summary>Accepted or rejected.</summary>
    public RedemptionOutcome Outcome { get; private set; }

    /// <summary>Why it was rejected.</summary>
    public RejectionReason? RejectionReason { get; private set; }

    /// <summary>For a cancellation: the redemption it cancels.</summary>
    public Guid? CancelsRedemptionId { get; private set; }

    /// <summary>Records a decided redemption, booked in <paramref name="bookingPeriod"/>.</summary>
    public static Redemption Record(
        Guid id,
        RedemptionRequest request,
        RedemptionFacts facts,
        RedemptionDecision decision,
        Period bookingPeriod,
        DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(decision);
        var offerFound = decision.Reason != Domain.RejectionReason.NotYourOffer && decision.Reason != Domain.RejectionReason.Malformed;
        return new Redemption
        {
            Id = Require.NotEmpty("id", id),
            PartnerId = Require.Slug("partnerId", request.PartnerId),
            PartnerEventId = PrintableText.Cut(request.PartnerEventId ?? "", Limits.PartnerEventIdMaxLength),
            Kind = RedemptionKind.Redemption,
            ClubId = offerFound ? facts.Offer?.ClubId : null,
            OfferId = offerFound ? facts.Offer?.Id : null,
            OfferVersion = offerFound ? facts.OfferVersion?.Version : null,
            MemberToken = MemberTokenAsStored(request.MemberToken),
            HouseholdId = facts.Household?.Id,
            OccurredAt = request.OccurredAt,
            ReceivedAt = receivedAt,
            Period = bookingPeriod,
            PurchaseAmount = request.PurchaseAmount,
            ClaimedDiscount = request.ClaimedDiscount,
            ComputedDiscount = decision.ComputedDiscount,
            Outcome = decision.Outcome,
            RejectionReason = decision.Reason,
        };
    }

    /// <summary>
    /// Records the cancellation of <paramref name="original"/> (an accepted redemption of the same partner, not yet
    /// cancelled), booked in <paramref name="bookingPeriod"/>; it carries the original's amounts.
    /// </summary>
    public static Redemption Cancel(
        Guid id, string partnerEventId, Redemption original, bool alreadyCancelled, DateTimeOffset occurredAt, Period bookingPeriod, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(original);
        if (original.Kind != RedemptionKind.Redemption || original.Outcome != RedemptionOutcome.Accepted)
        {
            throw DomainException.Precondition("cancelsEventId", "only an accepted redemption can be cancelled");
        }

        if (alreadyCancelled)
        {
            throw DomainException.Precondition("cancelsEventId", "the redemption is already cancelled");
        }

        return new Redemption
        {
            Id = Require.NotEmpty("id", id),
            PartnerId = original.PartnerId,
            // Stored as received, as a redemption's is: the partner's key for it, resent and matched as is.
            PartnerEventId = Require.Identifier("partnerEventId", partnerEventId, Limits.PartnerEventIdMaxLength),
            Kind = RedemptionKind.Cancellation,
            ClubId = original.ClubId,
            OfferId = original.OfferId,
            OfferVersion = original.OfferVersion,
            MemberToken = original.MemberToken,
            HouseholdId = original.HouseholdId,
            OccurredAt = occurredAt,
            ReceivedAt = receivedAt,
            Period = bookingPeriod,
            PurchaseAmount = original.PurchaseAmount,
            ClaimedDiscount = original.ClaimedDiscount,
            ComputedDiscount = original.ComputedDiscount,
            Outcome = RedemptionOutcome.Accepted,
            CancelsRedemptionId = original.Id,
        };
    }

    /// <summary>
    /// The member token as <see cref="Record"/> stores it, for comparing a resend with what was stored. A malformed
    /// request is still recorded so its retry gets the same answer: an over-long token is cut to fit, between whole
    /// characters (<see cref="PrintableText.Cut"/>), since half a surrogate pair could never be written to PostgreSQL.
    /// </summary>
    public static string MemberTokenAsStored(string? memberToken) => PrintableText.Cut(memberToken ?? "", Limits.MemberTokenMaxLength);
}

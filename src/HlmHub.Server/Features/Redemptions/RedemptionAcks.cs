using System.Globalization;
using HlmHub.Domain;
using HlmHub.Observability;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Redemptions;

/// <summary>The acknowledgements a partner gets, with a sentence a person can act on for every refusal.</summary>
internal static class RedemptionAcks
{
    /// <summary>The first answer to a recorded event (accepted, or rejected and recorded).</summary>
    public static V1.RedemptionAck First(Redemption recorded, string? malformedBecause)
    {
        var ack = FromRecord(recorded, recorded.PartnerEventId);
        ack.Outcome = ToProto(recorded.Outcome);
        if (malformedBecause is not null)
        {
            ack.Message = malformedBecause;
        }

        return ack;
    }

    /// <summary>A resend (or a second cancellation of one redemption): the first answer, marked DUPLICATE.</summary>
    public static V1.RedemptionAck Duplicate(Redemption first, string eventId)
    {
        var ack = FromRecord(first, eventId);
        ack.Outcome = V1.RedemptionOutcome.Duplicate;
        ack.FirstOutcome = ToProto(first.Outcome);
        return ack;
    }

    /// <summary>The event id was used before with another payload: refused, the first event keeps its answer.</summary>
    public static V1.RedemptionAck Conflict(Redemption first, string eventId) => new()
    {
        EventId = eventId,
        Outcome = V1.RedemptionOutcome.Rejected,
        Reason = V1.RedemptionReason.IdempotencyConflict,
        RedemptionId = first.Id.ToString(),
        Message = $"event_id '{eventId}' was already used on {first.ReceivedAt:yyyy-MM-dd HH:mm:ss}Z with a different payload; " +
                  "an event id is unique for ever: send a new event id for a new event",
    };

    /// <summary>A refusal that is not recorded (no usable event id, or nothing to cancel).</summary>
    public static V1.RedemptionAck Refused(string eventId, RejectionReason reason, string message) => new()
    {
        EventId = eventId,
        Outcome = V1.RedemptionOutcome.Rejected,
        Reason = ToProto(reason),
        Message = message,
    };

    /// <summary>Counts an answer on the hub's meter (redemptions by outcome, reason and kind).</summary>
    public static void Count(HubMetrics metrics, V1.RedemptionEvent received, V1.RedemptionAck ack)
    {
        var kind = received.CancelsEventId.Length > 0 ? RedemptionKind.Cancellation : RedemptionKind.Redemption;
        var outcome = ack.Outcome switch
        {
            V1.RedemptionOutcome.Accepted => RedemptionOutcome.Accepted,
            V1.RedemptionOutcome.Duplicate => RedemptionOutcome.Duplicate,
            _ => RedemptionOutcome.Rejected,
        };
        // An idempotency conflict has no domain reason: it is counted as a rejection without one.
        RejectionReason? reason = ack.Outcome == V1.RedemptionOutcome.Rejected && ack.Reason != V1.RedemptionReason.IdempotencyConflict
            ? FromProto(ack.Reason)
            : null;
        metrics.RecordRedemption(outcome, reason, kind);
    }

    public static V1.RedemptionReason ToProto(RejectionReason reason) => reason switch
    {
        RejectionReason.UnknownMember => V1.RedemptionReason.UnknownMember,
        RejectionReason.NotAMember => V1.RedemptionReason.NotAMember,
        RejectionReason.OfferNotActive => V1.RedemptionReason.OfferNotActive,
        RejectionReason.ContractSuspended => V1.RedemptionReason.ContractSuspended,
        RejectionReason.CapExceeded => V1.RedemptionReason.CapExceeded,
        RejectionReason.DiscountMismatch => V1.RedemptionReason.DiscountMismatch,
        RejectionReason.NotYourOffer => V1.RedemptionReason.NotYourOffer,
        RejectionReason.OutsideWindow => V1.RedemptionReason.OutsideWindow,
        RejectionReason.NotEligible => V1.RedemptionReason.NotEligible,
        RejectionReason.Malformed => V1.RedemptionReason.Malformed,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Unknown rejection reason."),
    };

    private static RejectionReason? FromProto(V1.RedemptionReason reason) => reason switch
    {
        V1.RedemptionReason.UnknownMember => RejectionReason.UnknownMember,
        V1.RedemptionReason.NotAMember => RejectionReason.NotAMember,
        V1.RedemptionReason.OfferNotActive => RejectionReason.OfferNotActive,
        V1.RedemptionReason.ContractSuspended => RejectionReason.ContractSuspended,
        V1.RedemptionReason.CapExceeded => RejectionReason.CapExceeded,
        V1.RedemptionReason.DiscountMismatch => RejectionReason.DiscountMismatch,
        V1.RedemptionReason.NotYourOffer => RejectionReason.NotYourOffer,
        V1.RedemptionReason.OutsideWindow => RejectionReason.OutsideWindow,
        V1.RedemptionReason.NotEligible => RejectionReason.NotEligible,
        V1.RedemptionReason.Malformed => RejectionReason.Malformed,
        _ => null,
    };

    private static V1.RedemptionAck FromRecord(Redemption recorded, string eventId)
    {
        var ack = new V1.RedemptionAck
        {
            EventId = eventId,
            RedemptionId = recorded.Id.ToString(),
            ComputedDiscountCents = recorded.ComputedDiscount.Cents,
            Period = recorded.Period.ToString(),
            Adjustment = recorded.Outcome == RedemptionOutcome.Accepted && recorded.Period != Period.Of(recorded.OccurredAt),
        };
        if (recorded.RejectionReason is { } reason)
        {
            ack.Reason = ToProto(reason);
            ack.Message = Explain(reason, recorded);
        }
        else if (ack.Adjustment)
        {
            ack.Message = string.Create(CultureInfo.InvariantCulture,
                $"{Period.Of(recorded.OccurredAt)} is closed for this club: booked as an adjustment in {recorded.Period}");
        }

        return ack;
    }

    private static V1.RedemptionOutcome ToProto(RedemptionOutcome outcome) => outcome switch
    {
        RedemptionOutcome.Accepted => V1.RedemptionOutcome.Accepted,
        RedemptionOutcome.Rejected => V1.RedemptionOutcome.Rejected,
        _ => V1.RedemptionOutcome.Duplicate,
    };

    private static string Explain(RejectionReason reason, Redemption recorded) => reason switch
    {
        RejectionReason.UnknownMember => "no member has this member token: check the card or ask the member to check with their landlord",
        RejectionReason.NotAMember => "this member is not (or no longer) a member of the offer's club",
        RejectionReason.OfferNotActive => $"offer '{recorded.OfferId}' is withdrawn or its contract has ended",
        RejectionReason.ContractSuspended => $"your contract for offer '{recorded.OfferId}' is suspended: contact the club",
        RejectionReason.CapExceeded => $"this member has used offer '{recorded.OfferId}' as often or as much as the offer allows in {Period.Of(recorded.OccurredAt)}",
        RejectionReason.DiscountMismatch => string.Create(CultureInfo.InvariantCulture,
            $"the discount for this purchase is {recorded.ComputedDiscount.Cents} cents by the offer's terms; the event claims {recorded.ClaimedDiscount.Cents}"),
        RejectionReason.NotYourOffer => "no offer of yours has this offer_id",
        RejectionReason.OutsideWindow => $"offer '{recorded.OfferId}' was not valid at occurred_at",
        RejectionReason.NotEligible => $"this member does not meet offer '{recorded.OfferId}''s conditions (rooms, QPV)",
        RejectionReason.Malformed => "the event is incomplete or inconsistent (a missing field, a negative amount, or occurred_at in the future)",
        _ => reason.ToString(),
    };
}

using HlmHub.Domain;
using V1 = HlmHub.Contracts.V1;

namespace HlmHub.Server.Features.Redemptions;

/// <summary>
/// An event as the rules read it: trimmed of nothing (an id is what the partner sent), instants cut to the
/// millisecond the storage keeps, so a resend compares equal to what was stored.
/// </summary>
internal sealed record ReceivedEvent(
    string PartnerId,
    string EventId,
    string OfferId,
    string MemberToken,
    DateTimeOffset? OccurredAt,
    long PurchaseCents,
    long DiscountCents,
    string CancelsEventId)
{
    public bool IsCancellation => CancelsEventId.Length > 0;

    public static ReceivedEvent From(RedemptionSubmission submission)
    {
        var message = submission.Event;
        DateTimeOffset? occurredAt = null;
        if (message.OccurredAt is { } timestamp && ProtoTimestamps.IsValid(timestamp))
        {
            occurredAt = DateTimeOffset.FromUnixTimeMilliseconds((timestamp.Seconds * 1000) + (timestamp.Nanos / 1_000_000));
        }

        return new ReceivedEvent(submission.PartnerId, message.EventId, message.OfferId, message.MemberToken, occurredAt,
            message.PurchaseCents, message.DiscountCents, message.CancelsEventId);
    }

    /// <summary>The first of offer_id, member_token and cancels_event_id that holds a control character, or null.</summary>
    public string? UnprintableField() =>
        !PrintableText.Is(OfferId) ? "offer_id"
        : !PrintableText.Is(MemberToken) ? "member_token"
        : !PrintableText.Is(CancelsEventId) ? "cancels_event_id"
        : null;

    /// <summary>Why the event cannot be decided on (a missing or impossible field), or null.</summary>
    public string? MalformedBecause(DateTimeOffset now, TimeSpan maxClockSkew)
    {
        if (OccurredAt is not { } occurredAt)
        {
            return "occurred_at is required (a valid timestamp)";
        }

        if (occurredAt > now + maxClockSkew)
        {
            return $"occurred_at {occurredAt:yyyy-MM-ddTHH:mm:ss.fffZ} is in the future by more than the hub accepts ({maxClockSkew.TotalSeconds:0} s, Redemptions:MaxClockSkew): check the till's clock";
        }

        if (!Period.Supports(occurredAt))
        {
            return $"occurred_at {occurredAt:yyyy-MM-ddTHH:mm:ss.fffZ} is outside the years the hub books ({Period.MinYear} to {Period.MaxYear}): check the till's clock";
        }

        if (IsCancellation)
        {
            return CancelsEventId.Length > Limits.PartnerEventIdMaxLength
                ? $"cancels_event_id is at most {Limits.PartnerEventIdMaxLength} characters"
                : CancelsEventId == EventId ? "an event cannot cancel itself: cancels_event_id must name an earlier event" : null;
        }

        return OfferId.Length is 0 or > Limits.SlugMaxLength ? $"offer_id is required: 1 to {Limits.SlugMaxLength} characters"
            : MemberToken.Length is 0 or > Limits.MemberTokenMaxLength ? $"member_token is required: 1 to {Limits.MemberTokenMaxLength} characters"
            : PurchaseCents is < 0 or > Limits.MaxAmountCents ? $"purchase_cents must be 0 to {Limits.MaxAmountCents} (10,000,000.00 EUR)"
            : DiscountCents is < 0 or > Limits.MaxAmountCents ? $"discount_cents must be 0 to {Limits.MaxAmountCents} (10,000,000.00 EUR)"
            : null;
    }

    /// <summary>
    /// Whether a resend carries what was stored the first time: the same kind, and for a redemption the same member,
    /// time, amounts and offer (when the offer was found); for a cancellation, the same cancelled event.
    /// </summary>
    public bool HasSamePayloadAs(Redemption stored, string? storedCancelsEventId)
    {
        if (stored.Kind == RedemptionKind.Cancellation)
        {
            return IsCancellation && CancelsEventId == storedCancelsEventId;
        }

        return !IsCancellation
            && stored.MemberToken == Redemption.MemberTokenAsStored(MemberToken)
            // A missing instant, or one outside the supported years, was stored as the arrival time (malformed).
            && (OccurredAt is not { } occurredAt || !Period.Supports(occurredAt) || stored.OccurredAt == occurredAt)
            && stored.PurchaseAmount.Cents == PurchaseCents
            && stored.ClaimedDiscount.Cents == DiscountCents
            && (stored.OfferId is null || stored.OfferId == OfferId);
    }
}

#!/usr/bin/python3
"""A partner streams redemptions to HlmHub with grpcio, and resends what was not acknowledged after a broken stream.

1. Gets an access token (client credentials) from the hub's token endpoint.
2. Picks its first redeemable offer (EligibilityService.ListOffers) and a few eligible members (the snapshot that
   starts EligibilityService.Watch), unless HLMHUB_OFFER / HLMHUB_MEMBER_TOKENS say which.
3. Streams one redemption per member over RedemptionService.StreamRedemptions and prints each acknowledgement.
   To show the resend, it breaks its first stream after HLMHUB_BREAK_AFTER acknowledgements (default 2, 0: never);
   the hub acknowledges in the order events were sent, so what is not acknowledged is the tail of what was sent.
   Resent events the hub had already committed come back DUPLICATE with their first answer: nothing is booked twice.

Run: /usr/bin/python3 examples/python/partner_redemptions.py (settings: examples/README.md). Exit code 0 when every
event was accepted, 1 otherwise.
"""
import collections
import datetime
import os
import time
import uuid

import hub

CLIENT_ID = "demo-partner-bakery"
PURCHASE_CENTS = 1_200
NEEDS = "scope hlmhub.redemptions (and hlmhub.offers.read) from a partner client"


def discount(offer, purchase_cents):
    """The discount the hub will compute for a fixed or percentage offer (the hub rejects any other amount)."""
    terms = offer.terms
    if terms.HasField("fixed_discount_cents"):
        return terms.fixed_discount_cents
    amount = purchase_cents * terms.percent_basis_points // 10_000
    return min(amount, terms.percent_cap_cents) if terms.HasField("percent_cap_cents") else amount


def main():
    (eligibility, eligibility_grpc), (redemption, redemption_grpc) = hub.load_stubs("eligibility", "redemption")
    import grpc
    metadata = [("authorization", "Bearer " + hub.access_token(CLIENT_ID))]
    channel = grpc.insecure_channel(hub.GRPC_ADDRESS)
    partner = eligibility_grpc.EligibilityServiceStub(channel)
    try:
        offers = partner.ListOffers(eligibility.ListPartnerOffersRequest(), metadata=metadata, timeout=30).offers
        wanted = os.environ.get("HLMHUB_OFFER")
        offer = next((o for o in offers if o.offer_id == wanted or (not wanted and o.redeemable_now)), None)
        if offer is None:
            offer = eligibility.PartnerOffer(offer_id=wanted) if wanted else None
        if offer is None:
            raise hub.Failure("this partner has no redeemable offer: ask the club's administrator for a contract and an offer")
        members = [t for t in os.environ.get("HLMHUB_MEMBER_TOKENS", "").split(",") if t]
        if not members:
            watch = partner.Watch(eligibility.WatchEligibilityRequest(), metadata=metadata, timeout=30)
            for update in watch:
                members += [entry.member_token for entry in update.entries if entry.eligible]
                if len(members) >= 5 or update.cursor:
                    break
            watch.cancel()
    except grpc.RpcError as error:
        raise hub.Failure(hub.explain(error, NEEDS)) from None
    members = members[:5]
    if not members:
        raise hub.Failure("no eligible member to redeem for: set HLMHUB_MEMBER_TOKENS (comma-separated)")
    print(f"offer {offer.offer_id} ({offer.title or 'as given'}), {len(members)} members")

    run_id = os.environ.get("HLMHUB_RUN_ID") or uuid.uuid4().hex[:12]
    # A resent event must be the same event: same id, same payload, occurred_at included.
    fixed = os.environ.get("HLMHUB_OCCURRED_AT")
    occurred_at = datetime.datetime.fromisoformat(fixed) if fixed else datetime.datetime.now(datetime.timezone.utc)
    pending = collections.OrderedDict()  # event_id -> event, in the order sent: what was not acknowledged yet
    for index, member in enumerate(members, start=1):
        event = redemption.RedemptionEvent(event_id=f"bakery-{run_id}-{index}", offer_id=offer.offer_id,
                                           member_token=member, purchase_cents=PURCHASE_CENTS,
                                           discount_cents=discount(offer, PURCHASE_CENTS))
        event.occurred_at.FromDatetime(occurred_at)
        pending[event.event_id] = event

    stub = redemption_grpc.RedemptionServiceStub(channel)
    break_after = int(os.environ.get("HLMHUB_BREAK_AFTER", "2"))
    accepted, attempts = 0, 0
    while pending:
        attempts += 1
        if attempts > 1:
            print(f"resending {len(pending)} unacknowledged events")
        call = stub.StreamRedemptions(iter(list(pending.values())), metadata=metadata, timeout=60)
        try:
            for received, ack in enumerate(call, start=1):
                pending.pop(ack.event_id)
                outcome = redemption.RedemptionOutcome.Name(ack.outcome).removeprefix("REDEMPTION_OUTCOME_")
                first = redemption.RedemptionOutcome.Name(ack.first_outcome).removeprefix("REDEMPTION_OUTCOME_")
                if ack.outcome == redemption.REDEMPTION_OUTCOME_DUPLICATE:
                    outcome += f" (first answer {first})"
                line = f"ack {ack.event_id} {outcome} discount={ack.computed_discount_cents} period={ack.period}"
                if ack.reason:
                    line += f" reason={redemption.RedemptionReason.Name(ack.reason)}: {ack.message}"
                print(line, flush=True)
                if ack.reason == redemption.REDEMPTION_REASON_NOT_YOUR_OFFER:
                    print(f"hint: offer {offer.offer_id} is unknown or not yours: list yours with "
                          "EligibilityService.ListOffers, or unset HLMHUB_OFFER")
                if ack.outcome == redemption.REDEMPTION_OUTCOME_ACCEPTED or first == "ACCEPTED":
                    accepted += 1
                if attempts == 1 and received == break_after and pending:
                    print(f"breaking the stream after {received} acknowledgements (demo of a lost connection)")
                    call.cancel()
                    break
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or attempts >= 5:
                raise hub.Failure(hub.explain(error, NEEDS)) from None
            print(f"stream broken ({error.details()}): retrying in {attempts} s")
            time.sleep(attempts)
    print(f"done: {accepted} of {len(members)} redemptions accepted, in {attempts} streams")
    return 0 if accepted == len(members) else 1


if __name__ == "__main__":
    hub.run(main)

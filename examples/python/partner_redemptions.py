#!/usr/bin/python3
"""A partner streams redemptions to HlmHub with grpcio and resends what was not acknowledged: one file, no helpers.

A token, the first redeemable offer, up to five eligible members (the Watch snapshot), one redemption each; the first
stream breaks after HLMHUB_BREAK_AFTER acks (default 2, 0: never), the rest is resent. Exit 0 when all were accepted.
"""
import base64
import importlib
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

ROOT = pathlib.Path(__file__).resolve().parents[2]
START_HINT = "start it with `dotnet run --project src/HlmHub.Server -- --seed-demo`"
GRPC_ADDRESS = os.environ.get("HLMHUB_GRPC_ADDRESS", "127.0.0.1:5080")
HTTP_URL = os.environ.get("HLMHUB_HTTP_URL", "http://127.0.0.1:5081").rstrip("/")
DEMO_CLIENTS = os.environ.get("HLMHUB_DEMO_CLIENTS", ROOT / "src/HlmHub.Server/data/demo-clients.json")
CLIENT_ID = os.environ.get("HLMHUB_CLIENT_ID", "demo-partner-bakery")
NEEDS = "scope hlmhub.redemptions (and hlmhub.offers.read) from a partner client"
PURCHASE_CENTS = 1_200


def access_token():
    """HLMHUB_ACCESS_TOKEN if set, else a client-credentials token from the hub (HTTP/1.1, client_secret_basic)."""
    if os.environ.get("HLMHUB_ACCESS_TOKEN"):
        return os.environ["HLMHUB_ACCESS_TOKEN"]
    secret = os.environ.get("HLMHUB_CLIENT_SECRET")
    if not secret and os.path.isfile(DEMO_CLIENTS):  # the demo's secrets, written by the seed
        clients = json.loads(pathlib.Path(DEMO_CLIENTS).read_text())["clients"]
        secret = next((c["client_secret"] for c in clients if c["client_id"] == CLIENT_ID), None)
    basic = base64.b64encode(f"{urllib.parse.quote(CLIENT_ID)}:{urllib.parse.quote(secret or '')}".encode()).decode()
    request = urllib.request.Request(f"{HTTP_URL}/connect/token", data=b"grant_type=client_credentials",
                                     headers={"Authorization": "Basic " + basic})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        if '"invalid_client"' in body:
            raise SystemExit(f"error: wrong client id or secret for {CLIENT_ID}: check HLMHUB_CLIENT_ID and "
                             f"HLMHUB_CLIENT_SECRET (the demo's are in {DEMO_CLIENTS})") from None
        raise SystemExit(f"error: the token endpoint refused {CLIENT_ID}: HTTP {error.code}: {body}") from None
    except (urllib.error.URLError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise SystemExit(f"error: hub not reachable at {HTTP_URL} ({reason}): {START_HINT}") from None


def load_stubs(*names):
    """protoc's stubs of protos/hlmhub/v1 without the HTTP options (googleapis), imported; their folder then removed."""
    with tempfile.TemporaryDirectory(prefix="hlmhub-stubs-") as folder:
        output = pathlib.Path(folder)
        (output / "hlmhub/v1").mkdir(parents=True)
        for proto in (ROOT / "protos/hlmhub/v1").glob("*.proto"):
            text = proto.read_text().replace('import "google/api/annotations.proto";', "")
            text = re.sub(r"\)\s*\{\s*option \(google\.api\.http\)\s*=\s*\{[^}]*\};\s*\}", ");", text)
            (output / "hlmhub/v1" / proto.name).write_text(text)
        subprocess.run(["/usr/bin/protoc", f"-I{output}", "-I/usr/include", f"--python_out={output}",
                        "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", f"--grpc_python_out={output}",
                        *(str(p.relative_to(output)) for p in output.glob("hlmhub/v1/*.proto"))], check=True)
        sys.path.insert(0, folder)
        return [importlib.import_module(f"hlmhub.v1.{name}") for name in names]


def explain(error):  # one line for a failed gRPC call: what to do, then what the hub said
    advice = {grpc.StatusCode.UNAVAILABLE: f"hub not reachable at {GRPC_ADDRESS}: {START_HINT}",
              grpc.StatusCode.UNAUTHENTICATED: "the hub refused the access token (expired, or from another hub): "
                                               "get a new one",
              grpc.StatusCode.PERMISSION_DENIED: f"permission denied: this call needs {NEEDS}; register such a client"}
    return f"{advice.get(error.code(), error.code().name)}; hub said: {error.details()}"


def main():
    eligibility, eligibility_grpc, redemption, redemption_grpc = load_stubs(
        "eligibility_pb2", "eligibility_pb2_grpc", "redemption_pb2", "redemption_pb2_grpc")
    metadata = [("authorization", "Bearer " + access_token())]
    channel = grpc.insecure_channel(GRPC_ADDRESS)
    partner = eligibility_grpc.EligibilityServiceStub(channel)
    offers = partner.ListOffers(eligibility.ListPartnerOffersRequest(), metadata=metadata, timeout=30).offers
    offer = next((offer for offer in offers if offer.redeemable_now), None)
    if offer is None:
        sys.exit("error: this partner has no redeemable offer: ask the club administrator for a contract")
    members, watch = [], partner.Watch(eligibility.WatchEligibilityRequest(), metadata=metadata, timeout=30)
    for update in watch:
        members += [entry.member_token for entry in update.entries if entry.eligible]
        if len(members) >= 5 or update.cursor:  # five are enough, or the snapshot is over
            break
    watch.cancel()
    if not members:
        sys.exit("error: no eligible member to redeem for: the club's roster has none yet")
    members = members[:5]
    print(f"offer {offer.offer_id} ({offer.title}), {len(members)} members")
    terms = offer.terms  # the discount the hub computes, and the only one it accepts: fixed, or a capped percentage
    cents = terms.fixed_discount_cents if terms.HasField("fixed_discount_cents") else (
        PURCHASE_CENTS * terms.percent_basis_points // 10_000)
    cents = min(cents, terms.percent_cap_cents) if terms.HasField("percent_cap_cents") else cents
    run_id = os.environ.get("HLMHUB_RUN_ID") or uuid.uuid4().hex[:12]
    stamp = Timestamp()  # now, or HLMHUB_OCCURRED_AT: a resent event must be the same event, occurred_at included
    stamp.GetCurrentTime()
    if "HLMHUB_OCCURRED_AT" in os.environ:
        stamp.FromJsonString(os.environ["HLMHUB_OCCURRED_AT"])
    events = [redemption.RedemptionEvent(event_id=f"bakery-{run_id}-{index}", offer_id=offer.offer_id,
                                         occurred_at=stamp, member_token=member, purchase_cents=PURCHASE_CENTS,
                                         discount_cents=cents) for index, member in enumerate(members, start=1)]
    pending = {event.event_id: event for event in events}  # in the order sent: what was not acknowledged yet
    stub, name = redemption_grpc.RedemptionServiceStub(channel), redemption.RedemptionOutcome.Name
    break_after, accepted, attempts = int(os.environ.get("HLMHUB_BREAK_AFTER", "2")), 0, 0
    while pending:
        attempts += 1
        if attempts > 1:
            print(f"resending {len(pending)} unacknowledged events")
        call = stub.StreamRedemptions(iter(list(pending.values())), metadata=metadata, timeout=60)
        try:
            for received, ack in enumerate(call, start=1):
                del pending[ack.event_id]
                outcome, first = (name(o).removeprefix("REDEMPTION_OUTCOME_") for o in (ack.outcome, ack.first_outcome))
                reason = f" reason={redemption.RedemptionReason.Name(ack.reason)}: {ack.message}" if ack.reason else ""
                print(f"ack {ack.event_id} {outcome}" + (f" (first answer {first})" if outcome == "DUPLICATE" else "")
                      + f" discount={ack.computed_discount_cents} period={ack.period}{reason}", flush=True)
                accepted += "ACCEPTED" in (outcome, first)
                if attempts == 1 and received == break_after and pending:
                    print(f"breaking the stream after {received} acknowledgements (demo of a lost connection)")
                    call.cancel()
                    break
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or attempts >= 5:
                raise
            print(f"stream broken ({error.details()}): retrying in {attempts} s")
            time.sleep(attempts)
    print(f"done: {accepted} of {len(members)} redemptions accepted, in {attempts} streams")
    return 0 if accepted == len(members) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as rpc_error:
        sys.exit(f"error: {explain(rpc_error)}")

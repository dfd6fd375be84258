#!/usr/bin/env python3
"""A partner's till streaming redemptions to HlmHub with Python grpcio, as a partner's own system would.

Gets its access token from the hub's token endpoint (client credentials, client_secret_basic, over HTTP/1.1), then
over one StreamRedemptions call (real HTTP/2) sends EVENTS redemptions of a 10 % offer, one with a wrong discount,
one for an unknown member token, a resend of the first event and the second event id with another payload; checks
every acknowledgement (in the order sent: accepted with the discount the hub computed, rejected with its reason,
duplicate with the first answer); then Redeem (unary) once, and once more for a duplicate.

Stubs are generated at run time from protos/hlmhub/v1/redemption.proto with Debian's protoc and grpc_python_plugin.
Configuration from the environment (never the command line): HLMHUB_CLIENT_ID, HLMHUB_CLIENT_SECRET (the partner's
client), HLMHUB_OFFER (the offer), HLMHUB_MEMBERS (member tokens of club members, comma-separated).

Usage: /usr/bin/python3 redemption_client.py --target 127.0.0.1:5080 --token-url http://127.0.0.1:5081/connect/token \
    --proto-root protos --api-protos ~/.nuget/packages/google.api.commonprotos/2.17.0/content/protos
Prints one "PASS name" or "FAIL name: reason" line per check, and "EVENT id outcome redemption_id" for each event the
hub accepted (the test checks them against the ledger); exit code 0 when all passed, 1 when one failed, 2 on a set-up error.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid

EVENTS = 50


def generate_stubs(proto_root, api_protos, output):
    # redemption.proto carries the HTTP rule of JSON transcoding: google/api/{annotations,http}.proto come from
    # --api-protos (the Google.Api.CommonProtos package the contracts build with), their modules generated too.
    subprocess.run(
        ["/usr/bin/protoc", f"-I{proto_root}", f"-I{api_protos}", "-I/usr/include", f"--python_out={output}",
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", f"--grpc_python_out={output}",
         "hlmhub/v1/redemption.proto", "google/api/annotations.proto", "google/api/http.proto"],
        check=True)
    sys.path.insert(0, output)


def get_token(token_url, client_id, secret):
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "hlmhub.redemptions"}).encode()
    request = urllib.request.Request(token_url, data=body, method="POST")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access_token"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--proto-root", required=True)
    parser.add_argument("--api-protos", required=True)
    arguments = parser.parse_args()
    client_id, secret = os.environ.get("HLMHUB_CLIENT_ID"), os.environ.get("HLMHUB_CLIENT_SECRET")
    offer, members = os.environ.get("HLMHUB_OFFER"), [m for m in os.environ.get("HLMHUB_MEMBERS", "").split(",") if m]
    if not client_id or not secret or not offer or not members:
        print("HLMHUB_CLIENT_ID, HLMHUB_CLIENT_SECRET, HLMHUB_OFFER and HLMHUB_MEMBERS must be set", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as output:
        try:
            generate_stubs(arguments.proto_root, arguments.api_protos, output)
            import grpc
            from google.protobuf import timestamp_pb2
            from hlmhub.v1 import redemption_pb2 as pb, redemption_pb2_grpc
        except Exception as error:  # noqa: BLE001 - any set-up failure is reported the same way
            print(f"set-up failed: {error}", file=sys.stderr)
            return 2

        failures = 0

        def check(name, condition, reason=""):
            nonlocal failures
            if condition:
                print(f"PASS {name}")
            else:
                failures += 1
                print(f"FAIL {name}: {reason}")

        try:
            token = get_token(arguments.token_url, client_id, secret)
        except Exception as error:  # noqa: BLE001
            print(f"token request failed: {error}", file=sys.stderr)
            return 2
        check("token_from_endpoint", token.count(".") == 2, "not a JWT")
        metadata = [("authorization", "Bearer " + token)]
        run = uuid.uuid4().hex[:8]

        def now():
            stamp = timestamp_pb2.Timestamp()
            stamp.GetCurrentTime()
            return stamp

        def event(index, purchase, discount=None, member=None, event_id=None):
            return pb.RedemptionEvent(
                event_id=event_id or f"py-{run}-{index}", offer_id=offer, member_token=member or members[index % len(members)],
                occurred_at=now(), purchase_cents=purchase, discount_cents=purchase // 10 if discount is None else discount)

        # (event, what the hub must answer): accepted ones carry the 10 % discount the partner computed too.
        sent = [(event(i, 1_000 + 37 * i), "accepted") for i in range(EVENTS)]
        sent.append((event(EVENTS, 2_000, discount=150), "discount_mismatch"))
        sent.append((event(EVENTS + 1, 2_000, member="mt_" + uuid.uuid4().hex), "unknown_member"))
        sent.append((sent[0][0], "duplicate"))
        sent.append((event(1, 9_990, event_id=sent[1][0].event_id), "idempotency_conflict"))

        with grpc.insecure_channel(arguments.target) as channel:
            service = redemption_pb2_grpc.RedemptionServiceStub(channel)
            acks = list(service.StreamRedemptions(iter([e for e, _ in sent]), metadata=metadata, timeout=60))
            check("one_ack_per_event", len(acks) == len(sent), f"{len(acks)} acks for {len(sent)} events")
            check("acks_in_sending_order", [a.event_id for a in acks] == [e.event_id for e, _ in sent],
                  "acknowledgements came back in another order")
            first_answers = {}
            for (e, expected), ack in zip(sent, acks):
                if expected == "accepted":
                    first_answers.setdefault(e.event_id, ack)
            accepted = [(e, a) for (e, x), a in zip(sent, acks) if x == "accepted"]
            check("accepted_with_computed_discount",
                  all(a.outcome == pb.REDEMPTION_OUTCOME_ACCEPTED and a.computed_discount_cents == e.purchase_cents // 10
                      and a.redemption_id and len(a.period) == 7 for e, a in accepted),
                  next((str(a) for e, a in accepted if a.outcome != pb.REDEMPTION_OUTCOME_ACCEPTED), "wrong discount or missing id"))
            check("accepted_ids_distinct", len({a.redemption_id for _, a in accepted}) == len(accepted), "a redemption id repeats")
            by_expectation = {x: a for (e, x), a in zip(sent, acks) if x != "accepted"}
            mismatch = by_expectation.get("discount_mismatch")
            check("discount_mismatch_rejected",
                  mismatch is not None and mismatch.outcome == pb.REDEMPTION_OUTCOME_REJECTED
                  and mismatch.reason == pb.REDEMPTION_REASON_DISCOUNT_MISMATCH and mismatch.computed_discount_cents == 200
                  and mismatch.message != "", str(mismatch))
            unknown = by_expectation.get("unknown_member")
            check("unknown_member_rejected",
                  unknown is not None and unknown.outcome == pb.REDEMPTION_OUTCOME_REJECTED
                  and unknown.reason == pb.REDEMPTION_REASON_UNKNOWN_MEMBER and unknown.message != "", str(unknown))
            duplicate = by_expectation.get("duplicate")
            check("resend_is_duplicate_with_first_answer",
                  duplicate is not None and duplicate.outcome == pb.REDEMPTION_OUTCOME_DUPLICATE
                  and duplicate.first_outcome == pb.REDEMPTION_OUTCOME_ACCEPTED
                  and duplicate.redemption_id == acks[0].redemption_id
                  and duplicate.computed_discount_cents == acks[0].computed_discount_cents, str(duplicate))
            conflict = by_expectation.get("idempotency_conflict")
            check("same_id_other_payload_is_conflict",
                  conflict is not None and conflict.outcome == pb.REDEMPTION_OUTCOME_REJECTED
                  and conflict.reason == pb.REDEMPTION_REASON_IDEMPOTENCY_CONFLICT, str(conflict))

            unary = event(EVENTS + 2, 4_321)
            answer = service.Redeem(unary, metadata=metadata, timeout=30)
            check("redeem_accepted", answer.outcome == pb.REDEMPTION_OUTCOME_ACCEPTED and answer.computed_discount_cents == 432
                  and answer.redemption_id != "", str(answer))
            again = service.Redeem(unary, metadata=metadata, timeout=30)
            check("redeem_resend_is_duplicate", again.outcome == pb.REDEMPTION_OUTCOME_DUPLICATE
                  and again.redemption_id == answer.redemption_id, str(again))

            try:
                service.Redeem(unary, timeout=30)
                check("no_token_is_unauthenticated", False, "the call was served")
            except grpc.RpcError as error:
                check("no_token_is_unauthenticated", error.code() == grpc.StatusCode.UNAUTHENTICATED, str(error.code()))

            for e, a in accepted + [(unary, answer)]:
                print(f"EVENT {e.event_id} {a.redemption_id} {a.computed_discount_cents}")

        return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A landlord's roster sync with Python grpcio, as a landlord's own system would run it.

Streams a full snapshot of HOUSEHOLDS households (one with 8 rooms, which must come back rejected) in batches
of the size the hub advertises, reads back the member tokens, then a delta removing one household.
Stubs are generated at run time from protos/hlmhub/v1/roster.proto with Debian's protoc and grpc_python_plugin.
The landlord's access token comes from HLMHUB_TOKEN, its club from HLMHUB_CLUB.

Usage: HLMHUB_TOKEN=... HLMHUB_CLUB=... /usr/bin/python3 roster_client.py --target 127.0.0.1:5080 --proto-root protos
Prints one "PASS name" or "FAIL name: reason" line per check; exit code 0 when all passed, 1 when one
failed, 2 on a set-up error.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import uuid

HOUSEHOLDS = 2_500


def generate_stubs(proto_root, output):
    subprocess.run(
        ["/usr/bin/protoc", f"-I{proto_root}", "-I/usr/include", f"--python_out={output}",
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", f"--grpc_python_out={output}",
         "hlmhub/v1/roster.proto"],
        check=True)
    sys.path.insert(0, output)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--proto-root", required=True)
    arguments = parser.parse_args()
    token, club = os.environ.get("HLMHUB_TOKEN"), os.environ.get("HLMHUB_CLUB")
    if not token or not club:
        print("HLMHUB_TOKEN and HLMHUB_CLUB must be set", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as output:
        try:
            generate_stubs(arguments.proto_root, output)
            import grpc
            from hlmhub.v1 import roster_pb2 as pb, roster_pb2_grpc
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

        def household(sequence, rooms=3, kind=pb.CHANGE_KIND_UPSERT, version=1):
            return pb.HouseholdChange(sequence=sequence, kind=kind, landlord_reference=f"PY-{sequence:07d}",
                                      version=version, rooms=rooms, in_qpv=sequence % 2 == 0,
                                      club_ids=[club] if kind == pb.CHANGE_KIND_UPSERT else [])

        def session(session_id, kind, items, batch_size):
            yield pb.SyncRosterRequest(start=pb.SessionStart(session_id=session_id, kind=kind))
            for first in range(0, len(items), batch_size):
                yield pb.SyncRosterRequest(batch=pb.RosterBatch(items=items[first:first + batch_size]))
            yield pb.SyncRosterRequest(complete=pb.SessionComplete())

        with grpc.insecure_channel(arguments.target) as channel:
            roster = roster_pb2_grpc.RosterServiceStub(channel)
            metadata = [("authorization", "Bearer " + token)]
            limits = roster.GetRosterLimits(pb.GetRosterLimitsRequest(), metadata=metadata, timeout=30)
            check("limits_advertised", limits.max_items_per_batch > 0, str(limits))

            items = [household(sequence, rooms=8 if sequence == 7 else 3) for sequence in range(1, HOUSEHOLDS + 1)]
            full = roster.SyncRoster(session(str(uuid.uuid4()), pb.SESSION_KIND_FULL_SNAPSHOT, items, limits.max_items_per_batch),
                                     metadata=metadata, timeout=120)
            check("full_snapshot_counts", (full.session.created, full.session.rejected, full.session.completed) == (HOUSEHOLDS - 1, 1, True),
                  str(full.session))
            check("rejection_reported", [(p.sequence, p.reason) for p in full.problems] == [(7, pb.REJECTION_REASON_ROOMS_OUT_OF_RANGE)],
                  str(list(full.problems)))

            tokens = [entry for page in roster.ListMemberTokens(pb.ListMemberTokensRequest(), metadata=metadata, timeout=60)
                      for entry in page.entries]
            check("member_tokens_listed", len(tokens) == HOUSEHOLDS - 1 and all(e.member_token.startswith("mt_") for e in tokens),
                  f"{len(tokens)} tokens")

            delta = roster.SyncRoster(session(str(uuid.uuid4()), pb.SESSION_KIND_DELTA,
                                              [household(1, kind=pb.CHANGE_KIND_REMOVE, version=2)], limits.max_items_per_batch),
                                      metadata=metadata, timeout=60)
            check("delta_removes", (delta.session.removed, delta.session.completed) == (1, True), str(delta.session))

            try:
                roster.GetRosterLimits(pb.GetRosterLimitsRequest(), timeout=30)
                check("no_token_refused", False, "call without a token succeeded")
            except grpc.RpcError as error:
                check("no_token_refused", error.code() == grpc.StatusCode.UNAUTHENTICATED, str(error.code()))

        return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

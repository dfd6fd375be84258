#!/usr/bin/python3
"""A landlord pushes a small pseudonymised roster to HlmHub with grpcio, then lists its member tokens. One file.

1. Gets an access token (client credentials) for the demo landlord, Plaine Commune Habitat.
2. Sends a DELTA session over RosterService.SyncRoster: three households (the landlord's own reference, rooms, the
   QPV flag and the club they opted into; never a name or an address). A delta only changes what it lists; a full
   snapshot would mark every household it does not list as left.
3. Prints the session's summary, then the member tokens of the households it sent (RosterService.ListMemberTokens):
   the pseudonyms partners know these households by. Running it again changes nothing: the same versions come back
   unchanged.

Run: /usr/bin/python3 examples/python/landlord_roster_sync.py (settings: examples/README.md; HLMHUB_CLUB is the club
the households join, the demo club by default). Exit code 0 when every household was applied, 1 otherwise.
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
import urllib.error
import urllib.parse
import urllib.request
import uuid

import grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
START_HINT = "start it with `dotnet run --project src/HlmHub.Server -- --seed-demo`"
GRPC_ADDRESS = os.environ.get("HLMHUB_GRPC_ADDRESS", "127.0.0.1:5080")
HTTP_URL = os.environ.get("HLMHUB_HTTP_URL", "http://127.0.0.1:5081").rstrip("/")
DEMO_CLIENTS = os.environ.get("HLMHUB_DEMO_CLIENTS", ROOT / "src/HlmHub.Server/data/demo-clients.json")
CLIENT_ID = os.environ.get("HLMHUB_CLIENT_ID", "demo-landlord-plaine-commune")
CLUB_ID = os.environ.get("HLMHUB_CLUB", "club-des-locataires-plaine-commune")
NEEDS = "scope hlmhub.roster from a landlord client"

# (landlord reference, version, rooms, in a priority neighbourhood): what a landlord's own system would export.
HOUSEHOLDS = [("EXAMPLE-0001", 1, 2, True), ("EXAMPLE-0002", 1, 3, False), ("EXAMPLE-0003", 1, 4, True)]


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
    roster, roster_grpc = load_stubs("roster_pb2", "roster_pb2_grpc")
    metadata = [("authorization", "Bearer " + access_token())]
    stub = roster_grpc.RosterServiceStub(grpc.insecure_channel(GRPC_ADDRESS))

    def session():
        yield roster.SyncRosterRequest(start=roster.SessionStart(session_id=str(uuid.uuid4()),
                                                                 kind=roster.SESSION_KIND_DELTA))
        yield roster.SyncRosterRequest(batch=roster.RosterBatch(items=[
            roster.HouseholdChange(sequence=sequence, kind=roster.CHANGE_KIND_UPSERT, landlord_reference=reference,
                                   version=version, rooms=rooms, in_qpv=in_qpv, club_ids=[CLUB_ID])
            for sequence, (reference, version, rooms, in_qpv) in enumerate(HOUSEHOLDS, start=1)]))
        yield roster.SyncRosterRequest(complete=roster.SessionComplete())

    result = stub.SyncRoster(session(), metadata=metadata, timeout=60)
    s = result.session
    print(f"roster synced: created={s.created} updated={s.updated} unchanged={s.unchanged} "
          f"stale={s.stale} rejected={s.rejected} completed={s.completed}")
    for problem in result.problems:
        print(f"problem: {problem.landlord_reference} {roster.RejectionReason.Name(problem.reason)}: "
              f"{problem.message}")
    ours = {reference for reference, *_ in HOUSEHOLDS}
    listed, total = 0, 0
    for page in stub.ListMemberTokens(roster.ListMemberTokensRequest(), metadata=metadata, timeout=60):
        for entry in page.entries:
            total += 1
            if entry.landlord_reference in ours:
                listed += 1
                state = "active" if entry.active else "left"
                print(f"member {entry.landlord_reference} {entry.member_token} {state}")
    print(f"member tokens: {total} households in all, {listed} of the {len(HOUSEHOLDS)} sent here")
    return 0 if s.rejected == 0 and s.stale == 0 and listed == len(HOUSEHOLDS) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as rpc_error:
        sys.exit(f"error: {explain(rpc_error)}")

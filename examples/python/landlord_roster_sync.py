#!/usr/bin/python3
"""A landlord pushes a small pseudonymised roster to HlmHub with grpcio, then lists its member tokens.

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
import os
import uuid

import hub

CLIENT_ID = "demo-landlord-plaine-commune"
CLUB_ID = os.environ.get("HLMHUB_CLUB", "club-des-locataires-plaine-commune")
NEEDS = "scope hlmhub.roster from a landlord client"

# (landlord reference, version, rooms, in a priority neighbourhood): what a landlord's own system would export.
HOUSEHOLDS = [("EXAMPLE-0001", 1, 2, True), ("EXAMPLE-0002", 1, 3, False), ("EXAMPLE-0003", 1, 4, True)]


def main():
    [(roster, roster_grpc)] = hub.load_stubs("roster")
    import grpc
    metadata = [("authorization", "Bearer " + hub.access_token(CLIENT_ID))]
    stub = roster_grpc.RosterServiceStub(grpc.insecure_channel(hub.GRPC_ADDRESS))

    def session():
        yield roster.SyncRosterRequest(start=roster.SessionStart(session_id=str(uuid.uuid4()),
                                                                 kind=roster.SESSION_KIND_DELTA))
        yield roster.SyncRosterRequest(batch=roster.RosterBatch(items=[
            roster.HouseholdChange(sequence=sequence, kind=roster.CHANGE_KIND_UPSERT, landlord_reference=reference,
                                   version=version, rooms=rooms, in_qpv=in_qpv, club_ids=[CLUB_ID])
            for sequence, (reference, version, rooms, in_qpv) in enumerate(HOUSEHOLDS, start=1)]))
        yield roster.SyncRosterRequest(complete=roster.SessionComplete())

    try:
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
    except grpc.RpcError as error:
        raise hub.Failure(hub.explain(error, NEEDS)) from None
    print(f"member tokens: {total} households in all, {listed} of the {len(HOUSEHOLDS)} sent here")
    return 0 if s.rejected == 0 and s.stale == 0 and listed == len(HOUSEHOLDS) else 1


if __name__ == "__main__":
    hub.run(main)

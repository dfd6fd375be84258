#!/usr/bin/env bash
# One redemption as JSON over plain HTTP/1.1, with curl only: a token from the hub's token endpoint (or
# HLMHUB_ACCESS_TOKEN), then POST /v1/redemptions on the same Http endpoint (the JSON form of RedemptionService.Redeem:
# same token, same rules, same acknowledgement; field names in lowerCamelCase, int64 amounts as numbers or strings).
#
# Usage: MEMBER_TOKEN=... bash examples/curl/redeem.sh
#   MEMBER_TOKEN   a member of the club (examples/python/landlord_roster_sync.py prints some)
#   OFFER_ID       default pain-10-pourcent, the demo bakery's 10 % offer (PURCHASE_CENTS 1200: discount 120)
#   EVENT_ID       default a new one; the same EVENT_ID and OCCURRED_AT again answer DUPLICATE with the first outcome
#                  (the same EVENT_ID with another payload is REJECTED as IDEMPOTENCY_CONFLICT)
#   OCCURRED_AT    default now (RFC 3339, UTC, e.g. 2026-11-29T18:30:00Z): the partner's clock
#   HLMHUB_ACCESS_TOKEN  a partner's access token got elsewhere: used as is, no token request
#   HLMHUB_HTTP_URL, HLMHUB_CLIENT_ID, HLMHUB_CLIENT_SECRET, HLMHUB_DEMO_CLIENTS: see examples/README.md
# Prints the acknowledgement (JSON); exit code 0 when it is ACCEPTED or a DUPLICATE, 1 otherwise.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
http_url="${HLMHUB_HTTP_URL:-http://127.0.0.1:5081}"
client_id="${HLMHUB_CLIENT_ID:-demo-partner-bakery}"
offer_id="${OFFER_ID:-pain-10-pourcent}"
purchase="${PURCHASE_CENTS:-1200}"
discount="${DISCOUNT_CENTS:-$((purchase / 10 < 500 ? purchase / 10 : 500))}"
event_id="${EVENT_ID:-curl-$(date +%s)-$RANDOM}"
occurred_at="${OCCURRED_AT:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
fail() { echo "error: $*" >&2; exit 1; }
# A deadline on every request: a hub that accepts the connection but never answers must not hang the caller.
deadline=(--connect-timeout 10 --max-time 30)
[ -n "${MEMBER_TOKEN:-}" ] || fail "set MEMBER_TOKEN to a club member's token (examples/python/landlord_roster_sync.py prints some)"

# 1. An access token: HLMHUB_ACCESS_TOKEN as is, else one from the token endpoint (client credentials,
#    client_secret_basic) with the client's secret.
token="${HLMHUB_ACCESS_TOKEN:-}"
if [ -z "$token" ]; then
    secret="${HLMHUB_CLIENT_SECRET:-}"
    if [ -z "$secret" ]; then
        # demo-clients.json is written indented, one field a line: the secret follows its client_id.
        for file in "${HLMHUB_DEMO_CLIENTS:-}" "$root/src/HlmHub.Server/data/demo-clients.json" "$root/data/demo-clients.json"; do
            [ -n "$file" ] && [ -f "$file" ] || continue
            secret="$(awk -v id="\"$client_id\"" '$0 ~ "\"client_id\": " id {found=1} found && /"client_secret"/ {gsub(/[",]/, "", $2); print $2; exit}' "$file")"
            [ -n "$secret" ] && break
        done
        [ -n "$secret" ] || fail "no secret for $client_id: set HLMHUB_CLIENT_SECRET, or seed the demo (start the hub with \`dotnet run --project src/HlmHub.Server -- --seed-demo\`)"
    fi

    # The secret goes to curl on its standard input (-K -), not its command line, which other users of the machine see.
    token_response="$(curl -sS "${deadline[@]}" -K - -d grant_type=client_credentials "$http_url/connect/token" 2>&1 <<<"user = \"$client_id:$secret\"")" \
        || fail "hub not reachable at $http_url ($token_response): start it with \`dotnet run --project src/HlmHub.Server -- --seed-demo\`"
    token="$(printf '%s' "$token_response" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')"
    if [ -z "$token" ]; then
        case "$token_response" in
            *invalid_client*) fail "wrong client id or secret for $client_id: check HLMHUB_CLIENT_ID and HLMHUB_CLIENT_SECRET (the demo's are in src/HlmHub.Server/data/demo-clients.json)" ;;
            *) fail "the token endpoint refused $client_id: $token_response" ;;
        esac
    fi
fi

# 2. The redemption.
body="$(printf '{"eventId":"%s","offerId":"%s","memberToken":"%s","occurredAt":"%s","purchaseCents":%s,"discountCents":%s}' \
    "$event_id" "$offer_id" "$MEMBER_TOKEN" "$occurred_at" "$purchase" "$discount")"
echo "POST $http_url/v1/redemptions $body"
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
status="$(curl -sS "${deadline[@]}" -o "$out" -w '%{http_code}' -K - -H 'content-type: application/json' --data "$body" \
    "$http_url/v1/redemptions" <<<"header = \"authorization: Bearer $token\"")" || fail "hub not reachable at $http_url"
answer="$(cat "$out")"
echo "HTTP $status $answer"
case "$status" in
    200) case "$answer" in
            *NOT_YOUR_OFFER*) fail "offer $offer_id is unknown or not yours: the demo bakery's is pain-10-pourcent" ;;
            *'"outcome":"REDEMPTION_OUTCOME_REJECTED"'*) fail "the hub refused the redemption: see reason and message above" ;;
         esac ;;
    401) fail "the hub refused the access token (expired, or from another hub): get a new one" ;;
    403) fail "permission denied: POST /v1/redemptions needs scope hlmhub.redemptions from a partner client" ;;
    *) fail "the hub answered HTTP $status" ;;
esac

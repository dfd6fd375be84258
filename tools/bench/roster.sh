#!/usr/bin/env bash
# The roster benchmark (docs/benchmarks.md): a full sync of HOUSEHOLDS households and a delta of DELTA changes through
# the hub's roster engine, against a bare batched-insert loop on the same schema (the storage ceiling), with peak
# memory, on SQLite and on a throw-away PostgreSQL.
# Usage: bash tools/bench/roster.sh [households (default 1000000)] [delta (default 10000)]
set -euo pipefail
cd "$(dirname "$0")/../.."
households="${1:-1000000}"
delta="${2:-10000}"

dotnet build tools/HlmHub.Bench.Roster -c Release -v q -nologo >/dev/null
# shellcheck source=tools/postgres.sh
source tools/postgres.sh
postgres_start
trap postgres_stop EXIT

for provider in sqlite postgres; do
    dotnet tools/HlmHub.Bench.Roster/bin/Release/net10.0/HlmHub.Bench.Roster.dll "$provider" "$households" "$delta"
done

#!/usr/bin/env bash
# The reconciliation benchmark (docs/benchmarks.md): one club's month filled with REDEMPTIONS accepted redemptions and
# their ledger postings (bulk INSERTs), then a recorded reconciliation of that month timed in a fresh process, so the
# peak memory printed (VmHWM) is the run's own; on SQLite and on a throw-away PostgreSQL.
# Usage: bash tools/bench/reconcile.sh [redemptions (default 1000000)]
set -euo pipefail
cd "$(dirname "$0")/../.."
redemptions="${1:-1000000}"

dotnet build tools/HlmHub.Bench.Reconcile -c Release -v q -nologo >/dev/null
bench=tools/HlmHub.Bench.Reconcile/bin/Release/net10.0/HlmHub.Bench.Reconcile.dll
# shellcheck source=tools/postgres.sh
source tools/postgres.sh
postgres_start
directory="$(mktemp -d)"
database="hlmhub_bench_reconcile_$$"
libpq="$(echo "$HLMHUB_TEST_POSTGRES" | sed 's/;/ /g; s/Host=/host=/; s/Port=/port=/; s/Username=/user=/; s/Database=/dbname=/; s/Pooling=[a-z]*//')"
cleanup() {
    psql "$libpq" -qc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
    postgres_stop
    rm -rf "$directory"
}
trap cleanup EXIT

echo "# $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$bench" fill sqlite "$directory" "$redemptions"
dotnet "$bench" reconcile sqlite "$directory"
dotnet "$bench" fill postgres "$database" "$redemptions"
# A server that has run for a while has statistics on its tables (autovacuum analyzes after large inserts, within a
# minute or so); a month bulk-loaded a second ago has none yet, and the planner would plan for empty tables.
psql "$(echo "$libpq" | sed "s/dbname=[^ ]*/dbname=$database/")" -qc "ANALYZE"
dotnet "$bench" reconcile postgres "$database"

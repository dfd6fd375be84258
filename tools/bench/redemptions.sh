#!/usr/bin/env bash
# The redemption benchmark (issue 10, docs/benchmarks.md): a partner's load generator streaming redemptions with real
# tokens against a real hub process (1 stream, 4 streams, p99 acknowledgement latency at a paced rate, the hub's RSS
# over a long run), and in the same run the storage references on the hub's own schema (a bare batched insert loop:
# the ceiling; one transaction per redemption: a naive integration), on SQLite and on a throw-away PostgreSQL.
# Usage: bash tools/bench/redemptions.sh [options passed to the benchmark, e.g. --redemptions 200000 --long 10000000]
# BENCH_PROVIDERS (default "sqlite postgres") chooses the providers.
set -euo pipefail
cd "$(dirname "$0")/../.."

dotnet build tools/HlmHub.Bench.Redemptions -c Release -v q -nologo >/dev/null
bench_dll=tools/HlmHub.Bench.Redemptions/bin/Release/net10.0/HlmHub.Bench.Redemptions.dll
providers="${BENCH_PROVIDERS:-sqlite postgres}"
if [[ " $providers " == *" postgres "* ]]; then
    # shellcheck source=tools/postgres.sh
    source tools/postgres.sh
    postgres_start
    trap postgres_stop EXIT
fi

echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(dotnet --version) SDK, $(date -u '+%Y-%m-%d %H:%M UTC')"
for provider in $providers; do
    dotnet "$bench_dll" "$provider" "$@"
done

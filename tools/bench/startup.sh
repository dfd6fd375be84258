#!/usr/bin/env bash
# The hub's start-up time (docs/benchmarks.md, "Start-up"): the hub published ready-to-run, as docs/operations.md
# says to deploy it, against the Release build output, which compiles the hub and its libraries as they first run.
# Each is timed from the command to its "Application started" log line (every hosted service has started: the schema
# checked, Quartz, the identity bootstrap, Kestrel listening), on SQLite, in alternating order.
# Usage: bash tools/bench/startup.sh [restarts per variant, default 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-5}"

work="$(mktemp -d /tmp/hlmhub-startup.XXXXXX)"
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build src/HlmHub.Server -c Release -v q -nologo >/dev/null
dotnet publish src/HlmHub.Server -c Release -o "$work/published" -v q -nologo >/dev/null
declare -A dll=(
    [published]="$work/published/HlmHub.Server.dll"
    [build]="$PWD/src/HlmHub.Server/bin/Release/net10.0/HlmHub.Server.dll"
)

# Starts one variant on its own data directory, prints the milliseconds to "Application started", stops it. The hub's
# output is read as it comes (a blocking read, not a polling loop, which would take CPU from the hub it times).
time_start() {
    local variant="$1" log="$work/$1.log" data="$work/data-$1"
    local started_ns elapsed="" line
    : >"$log"
    started_ns=$(date +%s%N)
    while IFS= read -r line; do
        echo "$line" >>"$log"
        if [[ -z "$elapsed" && "$line" == *"Application started"* ]]; then
            elapsed=$(( ($(date +%s%N) - started_ns) / 1000000 ))
            pkill -f -- "--Storage:DataDirectory=$data" || true
        fi
    done < <(cd "$(dirname "${dll[$variant]}")" && exec dotnet "${dll[$variant]}" \
        --Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:0 --Kestrel:Endpoints:Http:Url=http://127.0.0.1:0 \
        --Auth:Issuer=http://127.0.0.1:1/ --Storage:DataDirectory="$data" 2>&1)
    if [ -z "$elapsed" ]; then
        echo "startup.sh: the $variant hub exited while starting:" >&2
        cat "$log" >&2
        exit 1
    fi
    echo "$elapsed"
}

echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(dotnet --version) SDK, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "first start (creates the SQLite database, the first administrator): published $(time_start published) ms, build output $(time_start build) ms"

declare -A times=([published]="" [build]="")
for round in $(seq 1 "$rounds"); do
    # Alternating which goes first, so that neither always runs right after the other.
    if (( round % 2 )); then order="published build"; else order="build published"; fi
    for variant in $order; do
        times[$variant]+="$(time_start "$variant") "
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
published_median=$(echo "${times[published]}" | median)
build_median=$(echo "${times[build]}" | median)
echo "restart, ms (each run): published ${times[published]}| build output ${times[build]}"
echo "restart, median: published $published_median ms, build output $build_median ms, published/build $(awk -v p="$published_median" -v b="$build_median" 'BEGIN { printf "%.2f", p / b }')"

#!/usr/bin/env bash
# Transport benchmark (issue 8, "Benchmark"): in one run, on loopback, loaded with h2load,
#   hub      hlmhub.bench.Echo on grpc-dotnet behind the hub's stack: JwtBearer with the validated-token
#            cache, [RpcPolicy] authorization, the caller interceptor; every call carries a real token
#            from the embedded issuer (seen before: the steady state of a partner's connection);
#   plain    the same echo on grpc-dotnet alone;
#   grpc-js  the same echo on @grpc/grpc-js.
# Reports requests and messages per second, server CPU per message, the hub against grpc-js (target >= 5x,
# unary and bidi) and the server CPU a cached token adds per call (hub - plain, target <= 20 us).
#
# Usage: bash tools/bench/transport.sh            (about 100 s)
# Tunables (environment): BENCH_DURATION_SECONDS (measured run per case, default 3), BENCH_ROUNDS (runs per
# server and case, the median is reported, default 3), BENCH_WARMUP_SECONDS (per server and case, default 4),
# BENCH_NICE (e.g. -10: run servers and h2load at that priority; negative values need root).
#
# h2load runs for a duration (-D) rather than a request count: the servers differ by 10x, and a fixed duration
# gives each the same time. Each round runs the servers one after the other, so background load on a shared
# machine hits all of them alike. Raw output goes to $BENCH_OUT (default: a new directory under /tmp).
set -euo pipefail
cd "$(dirname "$0")/../.."

duration_seconds="${BENCH_DURATION_SECONDS:-3}"
rounds="${BENCH_ROUNDS:-3}"
warmup_seconds="${BENCH_WARMUP_SECONDS:-4}"
bidi_messages=100          # messages per bidirectional stream (BenchBodies.BidiMessagesPerStream)
h2load_load=(-c4 -m25)     # 4 connections x 25 concurrent streams
out_dir="${BENCH_OUT:-$(mktemp -d /tmp/hlmhub-bench.XXXXXX)}"
priority=()
[ -n "${BENCH_NICE:-}" ] && priority=(nice -n "$BENCH_NICE")
mkdir -p "$out_dir"
chmod 0700 "$out_dir"      # it holds the benchmark's access token

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
fail() { echo "transport.sh: FAIL: $*" >&2; exit 1; }

# --- Tools: h2load and nghttp (Debian nghttp2-client), node + grpc-js, the .NET servers.
if ! command -v h2load >/dev/null || ! command -v nghttp >/dev/null; then
    echo "transport.sh: installing nghttp2-client"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nghttp2-client
fi
(cd tools/bench/node && npm ci --no-audit --no-fund --loglevel=error)
dotnet build tools/HlmHub.Bench -c Release -nologo -v quiet
bench_dll="$(ls tools/HlmHub.Bench/bin/Release/net*/HlmHub.Bench.dll | head -n1)"
[ -f "$bench_dll" ] || fail "HlmHub.Bench.dll not built"
dotnet "$bench_dll" bodies --out "$out_dir" >/dev/null

# --- Servers on free loopback ports, each started directly (nice execs it) so $! is the process whose CPU
# time /proc reports.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

servers=(grpc-js plain hub)
declare -A port pid
pids_to_stop=()
cleanup() {
    for p in "${pids_to_stop[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids_to_stop[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

start_server() {
    local name="$1"
    port[$name]="$(free_port)"
    case "$name" in
        grpc-js) "${priority[@]}" node tools/bench/node/echo_server.js --port "${port[$name]}" >"$out_dir/$name.log" 2>&1 & ;;
        plain)   "${priority[@]}" dotnet "$bench_dll" serve --kind plain --port "${port[$name]}" >"$out_dir/$name.log" 2>&1 & ;;
        hub)     "${priority[@]}" dotnet "$bench_dll" serve --kind hub --port "${port[$name]}" --token-out "$out_dir/token" >"$out_dir/$name.log" 2>&1 & ;;
    esac
    pid[$name]=$!
    pids_to_stop+=("${pid[$name]}")
    for _ in $(seq 1 300); do
        grep -q "^listening on" "$out_dir/$name.log" 2>/dev/null && return 0
        kill -0 "${pid[$name]}" 2>/dev/null || { cat "$out_dir/$name.log" >&2; fail "$name exited at start-up"; }
        sleep 0.1
    done
    fail "$name did not start within 30 s"
}
for name in "${servers[@]}"; do start_server "$name"; done

url() { echo "http://127.0.0.1:${port[$1]}/hlmhub.bench.Echo/$2"; }
headers() { # the gRPC headers, and the bearer token for the hub
    printf '%s\n' -H 'content-type: application/grpc' -H 'te: trailers'
    [ "$1" = hub ] && printf '%s\n' -H "authorization: Bearer $(cat "$out_dir/token")"
    return 0
}

# --- Correctness, once per server and case, with the request h2load sends: grpc-status 0 and every message
# echoed intact (nghttp -v shows the trailers; a quiet run's body is checked message by message).
check() {
    local name="$1" method="$2" body="$3" messages="$4" verbose="$out_dir/nghttp-$1-$2.txt"
    mapfile -t h < <(headers "$name")
    nghttp -v -d "$out_dir/$body" "${h[@]}" "$(url "$name" "$method")" >"$verbose" 2>&1 || fail "nghttp $name $method failed (see $verbose)"
    grep -a -q "recv (stream_id=[0-9]*) grpc-status: 0" "$verbose" || fail "$name $method: no grpc-status: 0 (see $verbose)"
    nghttp -d "$out_dir/$body" "${h[@]}" "$(url "$name" "$method")" >"$out_dir/echo-$name-$method.bin" || fail "nghttp $name $method failed"
    dotnet "$bench_dll" verify --file "$out_dir/echo-$name-$method.bin" --messages "$messages" >/dev/null \
        || fail "$name $method: the echoed messages differ from those sent"
    echo "  $name $method: grpc-status 0, $messages message(s) echoed intact"
}
echo "Checking responses with nghttp"
for name in "${servers[@]}"; do
    check "$name" Unary unary.bin 1
    check "$name" Bidi bidi.bin "$bidi_messages"
done
# The hub refuses a call without a token: the figures below are those of authenticated calls.
nghttp -v -d "$out_dir/unary.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$(url hub Unary)" 2>&1 \
    | grep -a -q "grpc-status: 16" || fail "hub: a call without a token was not refused with UNAUTHENTICATED"
echo "  hub Unary without a token: UNAUTHENTICATED"

# --- Load.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
clock_ticks_per_second="$(getconf CLK_TCK)"
run_h2load() { # name method body seconds output
    mapfile -t h < <(headers "$1")
    "${priority[@]}" h2load -D "$4" "${h2load_load[@]}" -d "$out_dir/$3" "${h[@]}" "$(url "$1" "$2")" >"$5" 2>&1 \
        || fail "h2load $1 $2 failed (see $5)"
    grep -q "^requests: .* 0 failed, 0 errored" "$5" || fail "h2load $1 $2: failed or errored requests (see $5)"
}

cases=("unary Unary unary.bin" "bidi Bidi bidi.bin")
echo "Warming up (${warmup_seconds} s per server and case)"
for name in "${servers[@]}"; do
    for entry in "${cases[@]}"; do
        read -r case method body <<<"$entry"
        run_h2load "$name" "$method" "$body" "$warmup_seconds" "$out_dir/warmup-$name-$case.txt"
    done
done

results="$out_dir/results.tsv"
printf 'round\tserver\tcase\trequests_per_s\tsucceeded\tcpu_s\n' >"$results"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "Measuring: ${rounds} round(s) x ${duration_seconds} s per server and case, h2load ${h2load_load[*]}"
for round in $(seq 1 "$rounds"); do
    for entry in "${cases[@]}"; do
        read -r case method body <<<"$entry"
        for name in "${servers[@]}"; do
            output="$out_dir/h2load-$round-$name-$case.txt"
            ticks_before="$(cpu_ticks "${pid[$name]}")"
            run_h2load "$name" "$method" "$body" "$duration_seconds" "$output"
            ticks_after="$(cpu_ticks "${pid[$name]}")"
            rate="$(sed -n 's/^finished in [0-9.]*s, \([0-9.]*\) req\/s.*/\1/p' "$output")"
            succeeded="$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$output")"
            cpu_seconds="$(awk -v t=$(( ticks_after - ticks_before )) -v hz="$clock_ticks_per_second" 'BEGIN { printf "%.2f", t / hz }')"
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$case" "$rate" "$succeeded" "$cpu_seconds" >>"$results"
            printf '  round %s %-7s %-5s %12s req/s\n' "$round" "$name" "$case" "$rate"
        done
    done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- Report: the median round per server and case, ratios, and the issue's targets.
echo
echo "Transport benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "dotnet $(dotnet --version), node $(node --version), $(h2load --version | head -n1), load average before/after: $load_before / $load_after"
echo "h2load -D ${duration_seconds} ${h2load_load[*]}, median of ${rounds} round(s), priority ${BENCH_NICE:-unchanged}; bidi streams carry ${bidi_messages} messages; raw output: $out_dir"
echo
awk -F'\t' -v bidi="$bidi_messages" -f tools/bench/report.awk "$results" | tee "$out_dir/report.txt"

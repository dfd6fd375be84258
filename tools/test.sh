#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine (Debian packages, npm packages),
# starts a throw-away PostgreSQL on a loopback port, runs every test, and stops PostgreSQL.
# Usage: bash tools/test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir="$(pwd)"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages: real third-party clients (grpcio with protoc, its gRPC plugin and the well-known
# protos), h2load for the benchmark, PostgreSQL; python3-jwt, python3-cryptography and curl as ordinary OAuth
# clients of the embedded issuer (OrdinaryClientTests); jq for the README tour (ReadmeTourTests).
debian_packages=(python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc libprotobuf-dev nghttp2-client postgresql python3-jwt python3-cryptography curl jq)
missing=()
for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- npm packages for the Node clients, the interop peer and examples/node (@grpc/grpc-js, @grpc/proto-loader; versions locked
# in each package-lock.json).
# Node.js 20 or later with its npm (examples/README.md asks for Node 20; the tests run it here): Debian 12's nodejs is
# 18, so it is not installed from Debian. Stop here, saying what to install, rather than at `npm: command not found`.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: the Node peers and examples/node need Node.js 20 or later with npm (found: $(node --version 2>/dev/null || echo none))." \
        "Debian 12's nodejs is 18: install Node.js 20 from NodeSource (https://github.com/nodesource/distributions), then run this again." >&2
    exit 1
fi
if [ -f tests/interop/node/package.json ]; then
    (cd tests/interop/node && npm ci --no-audit --no-fund --loglevel=error)
    (cd examples/node && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- Local .NET tools (dotnet-ef, pinned in .config/dotnet-tools.json): tools/add-migration.sh uses it.
dotnet tool restore >/dev/null

# --- PostgreSQL: its own data directory, a free loopback port, run as the postgres user.
# shellcheck source=tools/postgres.sh
source tools/postgres.sh
postgres_start
trap postgres_stop EXIT

# --- Every test. Results as TRX under artifacts/ for CI to keep; a one-line total at the end.
results_dir="$root_dir/artifacts/test-results"
mkdir -p "$results_dir"
set +e
# Build everything first: some tests start the real HlmHub.Server process (two hubs on one PostgreSQL), which no
# test project references, so `dotnet test` alone would not have built it yet on a fresh clone.
dotnet build HlmHub.sln -c Release -nologo -v q 2>&1 | tee "$results_dir/build.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "tests: the build failed"; exit 1; }
# The tests that run the hub as a process run it as operators deploy it: published ready-to-run (docs/operations.md,
# "Deploying"). It starts in about 0.6 of the time of the build output, and those tests start it often (the crash
# tests alone 42 times).
hub_dir="$root_dir/artifacts/hub"
rm -rf "$hub_dir"
dotnet publish src/HlmHub.Server -c Release -o "$hub_dir" -nologo -v q 2>&1 | tee "$results_dir/publish.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "tests: publishing the hub failed"; exit 1; }
export HLMHUB_SERVER_ASSEMBLY="$hub_dir/HlmHub.Server.dll"
# One test project at a time (-m:1): each suite runs real servers and peers, and two cores shared by
# six suites at once turned timing into noise.
dotnet test HlmHub.sln -c Release --no-build -m:1 --logger "console;verbosity=normal" --results-directory "$results_dir" "$@" 2>&1 | tee "$results_dir/console.log"
status=${PIPESTATUS[0]}
set -e
# awk alone (not grep | awk): with pipefail, a grep that finds no "Failed:" line would end the script.
passed=$(awk '/^[[:space:]]+Passed: [0-9]+$/ {sum += $2} END {print sum + 0}' "$results_dir/console.log")
failed=$(awk '/^[[:space:]]+Failed: [0-9]+$/ {sum += $2} END {print sum + 0}' "$results_dir/console.log")
# Skipped (the SQL Server tests without a server, docs/storage.md, among them): counted so a summary never hides one.
skipped=$(awk '/^[[:space:]]+Skipped: [0-9]+$/ {sum += $2} END {print sum + 0}' "$results_dir/console.log")
if [ "$failed" -gt 0 ]; then
    # Each failed test with its message and the top of its stack, repeated here: a CI summary may keep only the end
    # of the log, and a failure that happens one run in ten must be diagnosable from that run alone.
    echo "tests: what failed:"
    awk '/^  Failed HlmHub\./ {left = 16} left > 0 {print; left--}' "$results_dir/console.log" | head -n 120 || true
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # A non-zero status with no failed test: a test host that crashed or was aborted (after its tests had passed), a
    # test class whose clean-up failed (a hub fixture that logged an error), or an MSBuild error. Its lines, so the end of the log (all a CI summary may keep) says which.
    echo "tests: dotnet test exited $status without a failed test; what it reported:"
    grep -nE "Test Run Aborted|aborted|crash|exited with error|Cleanup Failure|error [A-Z]+[0-9]+:" "$results_dir/console.log" | tail -n 20 || true
fi
exit "$status"

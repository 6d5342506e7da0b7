#!/usr/bin/env bash
# Runs the long verification set: every fault (SIGKILL+restart, SIGSTOP, full disk, link cut,
# slot move, failover of a primary with etcd, none) for local: and ucx:// clients, one client per thread and one shared, with
# sync and async durability, each scenario in its own process, sharing the given minutes; then
# prints a table: scenario, operations, faults, verdict, acknowledged writes lost, loss window.
# Failing histories are kept as JSON lines under TestResults/verify (or $RDMAKV_VERIFY_OUT).
# Usage: bash scripts/verify.sh [--minutes N] [--only TEXT[,TEXT...]]   (disk-full and link-cut need root)
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
project=tests/RdmaKv.Verification/RdmaKv.Verification.csproj
log=$(mktemp)
if ! dotnet build "$project" -c Release -nologo -v quiet >"$log" 2>&1; then
  grep -v NU1603 "$log"; rm -f "$log"
  echo "the build failed"
  exit 1
fi
rm -f "$log"
export RDMAKV_VERIFY_OUT="${RDMAKV_VERIFY_OUT:-$PWD/TestResults/verify}"
exec dotnet tests/RdmaKv.Verification/bin/Release/net10.0/RdmaKv.Verification.dll verify "$@"

#!/usr/bin/env bash
# Failover and re-replication times (a benchmark, not a test): three nodes with a real etcd, R = 2,
# 2 s leases. Kills the node that leads the most slots N times (writers on one of its slots and on
# another node's slot; the time from SIGKILL to the first successful write invoked after it, the
# errors and the longest call each saw), then fills one slot with K keys of 1 KiB, kills its backup
# and times the copy onto the third node. Needs etcd-server (scripts/test.sh installs it).
# Usage: bash bench/failover.sh [--kills N] [--slot-keys K]   (defaults 10 and 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/RdmaKv.Verification/RdmaKv.Verification.csproj -c Release -nologo -v quiet 2>&1 | grep -E " error " || true
exec dotnet tests/RdmaKv.Verification/bin/Release/net10.0/RdmaKv.Verification.dll failover-bench "$@"

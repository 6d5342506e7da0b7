#!/usr/bin/env bash
# Aggregate YCSB-B throughput of a cluster of 1, 2 and 3 nodes started by deploy/local-cluster.sh
# (each node in its own network namespace as root, else on loopback), one bench process on the
# host with --threads client threads. On one machine the nodes and the client share its cores:
# the figures show the cost of routing, not the scaling separate machines would give.
#
# Usage: bash bench/cluster-scaling.sh   (RECORDS=50000 DURATION=10 THREADS=2 NODES="1 2 3")
set -euo pipefail
cd "$(dirname "$0")/.."
records=${RECORDS:-50000}
duration=${DURATION:-10}
threads=${THREADS:-2}
counts=${NODES:-1 2 3}
# Room for every record in one node's regions, so the cold tier does not blur the comparison.
export RDMAKV_NODE_ARGS=${RDMAKV_NODE_ARGS:---memory 512m --store-memory 256m}
work=$(mktemp -d -t rdmakv-scaling-XXXXXX)
cleanup() {
  for state in "$work"/state-*; do
    [ -d "$state" ] && RDMAKV_LOCAL_CLUSTER_DIR=$state deploy/local-cluster.sh stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "publishing the server, the CLI and the benchmark (rdmakv bench runs it) once"
dotnet publish src/RdmaKv.Server -c Release -o "$work/publish" -nologo -v quiet >/dev/null
dotnet publish src/RdmaKv.Cli -c Release -o "$work/publish" -nologo -v quiet >/dev/null
dotnet publish bench/RdmaKv.Bench -c Release -o "$work/publish" -nologo -v quiet >/dev/null

results=()
for n in $counts; do
  state=$work/state-$n
  out=$(RDMAKV_LOCAL_CLUSTER_DIR=$state RDMAKV_PUBLISH_DIR=$work/publish RDMAKV_NODES=$n deploy/local-cluster.sh start --no-build)
  seeds=$(sed -n 's/^seeds: //p' <<<"$out")
  device=lo
  grep -q "(netns)" <<<"$out" && device=rdmakv-br0
  echo "== $n node(s): $seeds"
  report=$(RDMAKV_TOKEN_FILE=$state/client-token UCX_TLS=tcp UCX_NET_DEVICES=$device \
    dotnet "$work/publish/rdmakv.dll" bench --target "$seeds" --workload B --records "$records" \
      --threads "$threads" --duration "$duration" --json "$work/b-$n.json" --label "$n node(s)")
  grep '^| run ' <<<"$report" || true
  results+=("$n|$(grep '^| run | ALL ' <<<"$report" | awk -F'|' '{gsub(/ /,"",$5); print $5}' || true)")
  RDMAKV_LOCAL_CLUSTER_DIR=$state deploy/local-cluster.sh stop >/dev/null
done

echo
echo "| nodes | YCSB-B ops/s (all operations, $threads client threads, $records records) |"
echo "| --- | --- |"
for r in "${results[@]}"; do echo "| ${r%%|*} | ${r#*|} |"; done

#!/usr/bin/env bash
# Side by side on this machine, loopback only: an RdmaKv node (rdmakv-server), Redis (Debian's
# redis-server, persistence off) and Garnet (the garnet-server dotnet tool, 2.2.8), each its own
# process on a free port. Loads the same records into each, runs YCSB workloads A, B, C and F
# against each with the same thread count and bounded time, and prints one table. Installs what
# is missing; stops every process it started, whatever happens (trap EXIT).
#
# Usage: bash bench/compare.sh [--records N] [--threads "1 2"] [--duration SECONDS]
#                              [--operations N] [--workloads "A B C F"] [--no-peak] [--keep]
# --threads takes a list: every workload runs once per thread count, the same for every store.
# --no-peak skips redis-benchmark's pipelined peak (50 connections, 16 commands in flight each).
# --keep leaves the results folder (JSON per run) instead of deleting it; its path is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

records=100000
threads="1"
duration=10
operations=100000000
workloads="A B C F"
peak=1
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --records) records=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --operations) operations=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --no-peak) peak=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "compare.sh: $*" >&2; }

# --- what is missing gets installed --------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  say "installing redis-server"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  else
    say "redis-server is missing: run 'sudo apt-get install -y redis-server'"; exit 1
  fi
fi
tools=$root/bench/.tools
mkdir -p "$tools"
[ -f "$tools/.gitignore" ] || echo '*' > "$tools/.gitignore"
garnet=$tools/garnet/garnet-server
if [ ! -x "$garnet" ]; then
  say "installing garnet-server 2.2.8 into $tools/garnet"
  dotnet tool install --tool-path "$tools/garnet" garnet-server --version 2.2.8 >/dev/null
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
say "building rdmakv-server and rdmakv-bench (Release)"
dotnet build -c Release -nologo -v quiet src/RdmaKv.Server >/dev/null
dotnet build -c Release -nologo -v quiet bench/RdmaKv.Bench >/dev/null
server_dll=$root/src/RdmaKv.Server/bin/Release/net10.0/rdmakv-server.dll
bench_dll=$root/bench/RdmaKv.Bench/bin/Release/net10.0/rdmakv-bench.dll

# --- processes, and their end ----------------------------------------------------------------------
work=$(mktemp -d /tmp/rdmakv-compare.XXXXXX)
results=$work/results
mkdir -p "$results"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # A node that had to be killed leaves its shared memory behind; the name is this run's own.
  if [ -n "${node:-}" ]; then rm -rf "/dev/shm/rdmakv-$node"; fi
  if [ "$keep" = 1 ]; then say "results kept in $results"; else rm -rf "$work"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  say "no free port found"; return 1
}

wait_for_ping() { # port, name, log
  for _ in $(seq 300); do
    [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  say "$2 did not answer on 127.0.0.1:$1 within 30 s:"; cat "$3" >&2; return 1
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --protected-mode yes --save '' --appendonly no \
  --daemonize no --logfile "$work/redis.log" &
pids+=($!)
wait_for_ping "$redis_port" redis-server "$work/redis.log"

garnet_port=$(free_port)
"$garnet" --port "$garnet_port" --bind 127.0.0.1 >"$work/garnet.log" 2>&1 &
pids+=($!)
wait_for_ping "$garnet_port" garnet-server "$work/garnet.log"

node=compare-$$
# Like Redis and Garnet here, the node keeps no log: a node with durability options runs without them.
node_args=(--name "$node" --data-dir "$work/rdmakv-data" --memory 2g)
node_help=$(dotnet "$server_dll" --help 2>/dev/null || true)
durability="in memory"
if grep -q -- '--durability' <<<"$node_help"; then
  node_args+=(--durability none --checkpoint-interval 0)
  durability="--durability none --checkpoint-interval 0"
fi
if grep -q -- '--admin-urls' <<<"$node_help"; then node_args+=(--admin-urls none); fi
# Remote access over UCX on a free loopback port, over TCP only (like the RESP servers; no RDMA NIC
# here, and UCX would otherwise pick its own shared-memory transports between two local processes).
ucx_port=""
if grep -q -- '--listen' <<<"$node_help"; then
  ucx_port=$(free_port)
  node_args+=(--listen "127.0.0.1:$ucx_port")
  export UCX_TLS=${UCX_TLS:-tcp} UCX_NET_DEVICES=${UCX_NET_DEVICES:-lo}
  export RDMAKV_TOKEN_FILE=$work/rdmakv-data/client-token
fi
# The same node over RESP, so redis-benchmark and StackExchange.Redis compare its server with Redis's and Garnet's.
resp_port=""
if grep -q -- '--resp' <<<"$node_help"; then
  resp_port=$(free_port)
  node_args+=(--resp "127.0.0.1:$resp_port")
fi
dotnet "$server_dll" "${node_args[@]}" >"$work/rdmakv.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "is up" "$work/rdmakv.log" && break; sleep 0.1; done
grep -q "is up" "$work/rdmakv.log" || { say "rdmakv-server did not start:"; cat "$work/rdmakv.log" >&2; exit 1; }

bench() { dotnet "$bench_dll" "$@"; }

# --- the runs ------------------------------------------------------------------------------------
stores=("RdmaKv local:$node")
# The node says how remote clients connect, or why they cannot, just after it is up.
if [ -n "$ucx_port" ]; then
  for _ in $(seq 100); do grep -q -e "ucx://" -e "remote access is off" "$work/rdmakv.log" && break; sleep 0.1; done
fi
if [ -n "$ucx_port" ] && grep -q "ucx://" "$work/rdmakv.log"; then
  stores+=("RdmaKv-UCX ucx://127.0.0.1:$ucx_port")
elif [ -n "$ucx_port" ]; then
  say "the node did not open remote access (see below); RdmaKv runs over local: only"; grep -i "remote" "$work/rdmakv.log" >&2 || true
fi
if [ -n "$resp_port" ]; then
  for _ in $(seq 100); do grep -q "RESP clients" "$work/rdmakv.log" && break; sleep 0.1; done
  resp_token=$(cat "$work/rdmakv-data/client-token")
  stores+=("RdmaKv-RESP redis://:$resp_token@127.0.0.1:$resp_port")
fi
stores+=("Redis redis://127.0.0.1:$redis_port" "Garnet redis://127.0.0.1:$garnet_port")
loads=()
failures=()
for entry in "${stores[@]}"; do
  read -r label target <<<"$entry"
  # One load per store: the UCX and RESP clients reach the same node as local:.
  if [ "$label" = RdmaKv-UCX ] || [ "$label" = RdmaKv-RESP ]; then continue; fi
  say "$label: loading $records records"
  bench --phase load --target "$target" --label "$label" --records "$records" --threads 2 \
    --json "$work/load-$label.json" >/dev/null
  loads+=("$label $(cut -d' ' -f1 /proc/loadavg)")
done
for t in $threads; do
  for w in $workloads; do
    for entry in "${stores[@]}"; do
      read -r label target <<<"$entry"
      say "$label: workload $w, $t thread(s), up to $duration s"
      # Exit code 1 means some operations failed: the table shows how many. Anything else is said below it.
      set +e
      bench --phase run --workload "$w" --target "$target" --label "$label" --records "$records" \
        --threads "$t" --operations "$operations" --duration "$duration" \
        --json "$results/$label-$w-$t.json" >/dev/null 2>"$work/run.err"
      code=$?
      set -e
      if [ "$code" -gt 1 ]; then
        failures+=("$label, workload $w, $t thread(s): exit $code: $(tail -n 3 "$work/run.err" | tr '\n' ' ')")
        say "${failures[-1]}"
      fi
    done
  done
done

peak_lines=()
peak_args=()
if [ "$peak" = 1 ]; then
  peak_entries=("Redis $redis_port" "Garnet $garnet_port")
  if [ -n "$resp_port" ]; then peak_entries=("RdmaKv-RESP $resp_port $resp_token" "${peak_entries[@]}"); fi
  for entry in "${peak_entries[@]}"; do
    read -r label port token <<<"$entry"
    say "$label: redis-benchmark peak, 50 connections x 16 pipelined, 1000-byte values"
    out=$(redis-benchmark -h 127.0.0.1 -p "$port" ${token:+-a "$token"} -c 50 -P 16 -d 1000 -r "$records" -n 2000000 -t set,get -q 2>/dev/null \
      | tr '\r' '\n' | grep -E '^(SET|GET): [0-9]' || true)
    set_rps=$(sed -n 's/^SET: \([0-9.]*\) requests per second.*/\1/p' <<<"$out")
    get_rps=$(sed -n 's/^GET: \([0-9.]*\) requests per second.*/\1/p' <<<"$out")
    get_p50=$(sed -n 's/^GET: .*p50=\([0-9.]*\) msec.*/\1/p' <<<"$out")
    peak_lines+=("| $label | ${set_rps:-?} | ${get_rps:-?} | ${get_p50:-?} |")
    # The peers' peaks: what RdmaKv's own rows are set against.
    if [ -n "$get_rps" ] && [ "$label" != RdmaKv-RESP ]; then peak_args+=(--peak "$label=$get_rps"); fi
  done
fi

# --- the table -----------------------------------------------------------------------------------
echo "## RdmaKv vs Redis vs Garnet ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Transports: RdmaKv through \`local:\` (same-host shared memory: GETs are loads from the node's"
echo "mapped regions, puts go through a shared-memory mailbox; node: $durability)${ucx_port:+, and}"
if [ -n "$ucx_port" ]; then echo "RdmaKv-UCX through ucx:// (UCX_TLS=$UCX_TLS on $UCX_NET_DEVICES: GETs are UCX gets, emulated over TCP);"; fi
if [ -n "$resp_port" ]; then echo "RdmaKv-RESP: the same node through its RESP gateway (--resp; every GET answered by the node), with the client and protocol of the RESP servers;"; fi
echo "Redis"
echo "$(redis-server --version | grep -o 'v=[^ ]*') (--save '' --appendonly no) and Garnet 2.2.8 (its defaults: no AOF) through"
echo "RESP over TCP loopback (StackExchange.Redis, one connection per client thread). Every process runs"
echo "on this one machine: $(nproc) cores shared by clients and servers (and by whatever else runs here:"
echo "1-minute load average after each store's load phase: ${loads[*]})."
echo
bench compare "$results" "${peak_args[@]}"
if [ "${#failures[@]}" -gt 0 ]; then
  echo
  echo "Runs that did not finish (no row above):"
  printf -- '- %s\n' "${failures[@]}"
fi
if [ "${#peak_lines[@]}" -gt 0 ]; then
  echo
  echo "Peak of each RESP server with redis-benchmark (50 connections, 16 commands pipelined on each,"
  echo "1000-byte values, $records random keys; not YCSB, for scale):"
  echo
  echo "| store | SET ops/s | GET ops/s | GET p50 ms |"
  echo "| --- | ---: | ---: | ---: |"
  printf '%s\n' "${peak_lines[@]}"
fi

#!/usr/bin/env bash
# A three-node RdmaKv cluster on this host without Docker: the topology of docker-compose.yml and
# deploy/cluster.json (node1..node3 at 10.90.0.11-13, UCX port 7400, admin port 7480), with a
# one-member etcd that holds the map and the nodes' leases, and two copies of every slot (R = 2):
# a node that dies is failed over to its slots' backups.
#
# Usage: deploy/local-cluster.sh start [--loopback] [--no-build]
#        deploy/local-cluster.sh stop                (the nodes, then etcd)
#        deploy/local-cluster.sh status              (every node, and etcd's health)
#        deploy/local-cluster.sh topology [--loopback]      (one line a node: ID UCX ADMIN)
#        deploy/local-cluster.sh cluster-file [--loopback]  (the cluster file start writes)
#        deploy/local-cluster.sh stop-node N       (N: 1-3 or node1-node3; SIGTERM, a clean stop)
#        deploy/local-cluster.sh start-node N      (again, with its data; waits until it serves)
#        deploy/local-cluster.sh restart-node N    (stop-node, then start-node)
#        deploy/local-cluster.sh kill-node N       (SIGKILL, as a crash: data and shared memory stay
#                                                   as it left them; start-node recovers and sweeps)
#        deploy/local-cluster.sh isolate N         (namespaces only: the bridge drops node N's traffic; it
#                                                   runs on, unreachable from the others, etcd and this host)
#        deploy/local-cluster.sh heal N            (the bridge forwards it again)
#
# As root with `ip netns`, each node runs in a network namespace rdmakv-nodeN whose eth0 (one end
# of a veth pair) has 10.90.0.1N/24; the other ends are on the bridge rdmakv-br0 (10.90.0.1/24),
# so this host reaches every node and nothing is routed beyond the bridge. etcd runs in this
# host's namespace on the bridge address, http://10.90.0.1:2379 (peer port 2380). Otherwise, or
# with --loopback, the nodes listen on 127.0.0.1, UCX ports 7401-7403 and admin ports 7481-7483,
# and etcd on http://127.0.0.1:23790 (peer port 23800).
#
# start writes the cluster file (with "replicas": 2), starts etcd (/usr/bin/etcd, the Debian
# package etcd-server), seeds the map with `rdmakv cluster init FILE --etcd URL` (a map etcd kept
# from an earlier start stays) and starts the nodes with --etcd; it returns once every node serves.
#
# State (publish output, cluster file, tokens, etcd's data and log, each node's data, log and pid)
# is kept in $RDMAKV_LOCAL_CLUSTER_DIR, default ./local-cluster. Other settings from the environment:
#   RDMAKV_PUBLISH_DIR     a directory that already holds rdmakv-server.dll (and rdmakv.dll): no build
#   RDMAKV_NODE_ARGS       extra arguments for every node (default: --memory 64m --store-memory 64m;
#                          e.g. add --lease-ttl 4 --lease-margin 1000 on a slow machine)
#   RDMAKV_START_TIMEOUT   seconds to wait for every node to serve (default 90)
#   RDMAKV_STOP_TIMEOUT    seconds to wait for the nodes' clean stop before SIGKILL (default 60)
#   RDMAKV_NODES           1 or 2: start only the first nodes (default 3)
#   RDMAKV_ETCD            0: no etcd; the nodes run with --cluster FILE and one copy of every slot,
#                          and a down node's slots are unavailable until it returns (default 1)
#   RDMAKV_ETCD_BINARY     the etcd to run (default /usr/bin/etcd)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state=$(realpath -m "${RDMAKV_LOCAL_CLUSTER_DIR:-./local-cluster}")
start_timeout=${RDMAKV_START_TIMEOUT:-90}
stop_timeout=${RDMAKV_STOP_TIMEOUT:-60}
node_args=${RDMAKV_NODE_ARGS:---memory 64m --store-memory 64m}
etcd_binary=${RDMAKV_ETCD_BINARY:-/usr/bin/etcd}
# The coordination a new start chooses; the commands after it read the one it chose ($state/coordination).
case ${RDMAKV_ETCD:-1} in
  1) coordination=etcd ;;
  0) coordination=file ;;
  *) echo "local-cluster: RDMAKV_ETCD must be 0 or 1, not '$RDMAKV_ETCD'" >&2; exit 1 ;;
esac

# The topology. Keep it in step with deploy/cluster.json and docker-compose.yml (a test compares).
ids=(node1 node2 node3)
all_ids=("${ids[@]}")
# RDMAKV_NODES=1 or 2 starts only the first nodes of the topology, with a cluster file of just
# those (for scaling measurements); stop always stops all three.
nodes=${RDMAKV_NODES:-3}
[[ "$nodes" =~ ^[1-3]$ ]] || { echo "local-cluster: RDMAKV_NODES must be 1, 2 or 3, not '$nodes'" >&2; exit 1; }
ids=("${all_ids[@]:0:nodes}")
subnet=10.90.0
bridge=rdmakv-br0
bridge_address=$subnet.1
slots=256
ucx_port=7400
admin_port=7480
# With etcd, two copies of every slot (fewer with RDMAKV_NODES=1: a backup lives on another node).
replicas=$((nodes < 2 ? nodes : 2))
# etcd's client and peer ports: its defaults on the bridge address, which no node uses; on
# loopback, where the nodes take 7401-7403 and 7481-7483, ports clear of those and of a
# system etcd's 2379/2380 on 127.0.0.1.
etcd_netns_ports=(2379 2380)
etcd_loopback_ports=(23790 23800)

namespace_of() { echo "rdmakv-$1"; }
host_veth_of() { echo "rdmakv-$1-h"; }

# Sets host, ucx and admin for node number $1 (1-based) in mode $2 (netns or loopback).
address_of() {
  if [ "$2" = netns ]; then
    host=$subnet.$((10 + $1)); ucx=$host:$ucx_port; admin=http://$host:$admin_port
  else
    host=127.0.0.1; ucx=$host:$((ucx_port + $1)); admin=http://$host:$((admin_port + $1))
  fi
}

# Sets etcd_client and etcd_peer, etcd's URLs in mode $1.
etcd_urls() {
  if [ "$1" = netns ]; then
    etcd_client=http://$bridge_address:${etcd_netns_ports[0]}; etcd_peer=http://$bridge_address:${etcd_netns_ports[1]}
  else
    etcd_client=http://127.0.0.1:${etcd_loopback_ports[0]}; etcd_peer=http://127.0.0.1:${etcd_loopback_ports[1]}
  fi
}

can_use_netns() { [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns list >/dev/null 2>&1; }

die() { echo "local-cluster: $*" >&2; exit 1; }

topology() {
  local mode=$1 i
  for i in "${!ids[@]}"; do
    address_of $((i + 1)) "$mode"
    echo "${ids[$i]} $ucx $admin"
  done
}

# The cluster file of mode $1 for coordination $2 (etcd: with "replicas"; file: one copy).
cluster_json() {
  local mode=$1 i sep=""
  printf '{\n  "epoch": 1,\n  "slots": %d,\n' "$slots"
  if [ "$2" = etcd ]; then printf '  "replicas": %d,\n' "$replicas"; fi
  printf '  "nodes": [\n'
  for i in "${!ids[@]}"; do
    address_of $((i + 1)) "$mode"
    printf '%s    { "id": "%s", "ucx": "%s", "admin": "%s" }' "$sep" "${ids[$i]}" "$ucx" "$admin"
    sep=$',\n'
  done
  printf '\n  ]\n}\n'
}

seeds() {
  local mode=$1 i list=""
  for i in "${!ids[@]}"; do
    address_of $((i + 1)) "$mode"
    list+="${list:+,}$ucx"
  done
  echo "ucx://$list"
}

# What the command lines of this state directory's processes start with (launch and start_etcd
# put these arguments first), so that pid files are checked and strays found in either coordination.
node_command() { echo "rdmakv-server.dll --node-id $1 --name $1 --data-dir $state/$1/data "; }
etcd_command() { echo "--name rdmakv-local --data-dir $state/etcd/data "; }

# The pid in pid file $1 when that process's command line still holds $2 (the process this script started).
pid_of() {
  local file=$1 text=$2 pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$text" || return 1
  echo "$pid"
}

node_pid() { pid_of "$state/$1/pid" "$(node_command "$1")"; }

# True while the process launch started for node $1 runs: by pid alone, since until the
# background subshell has exec'd the node its command line is still this script's.
launched() {
  local pid stat
  pid=$(cat "$state/$1/pid" 2>/dev/null) || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  # The state after the command name; Z: exited, not yet reaped.
  [[ ${stat##*) } != Z* ]]
}
etcd_pid() { pid_of "$state/etcd/pid" "$(etcd_command)"; }

# Every process whose command line holds $1, pid file or not.
pids_with() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [ "$pid" = $$ ] && continue
    if tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$1"; then echo "$pid"; fi
  done
  return 0
}

# Every process running a node of this state directory.
stray_pids() { pids_with "rdmakv-server.dll --node-id " | while read -r pid; do
  if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- " --data-dir $state/node"; then echo "$pid"; fi
done; }

# GET $1 (http://HOST:PORT/PATH) with bash's /dev/tcp, so no HTTP client need be installed: prints
# the response (status line, headers, body); fails when nothing answers within 3 s.
http_get() {
  local rest=${1#http://} hostport path
  hostport=${rest%%/*}
  path=${rest#"$hostport"}; path=${path:-/}
  # shellcheck disable=SC2016
  timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3 && cat <&3' \
    _ "$hostport" "$path" 2>/dev/null
}

# True when GET $1 answers 200 (and its body holds $2, when given).
http_ok() {
  local response
  response=$(http_get "$1") || return 1
  [[ $response == HTTP/1.[01]" 200 "* ]] || return 1
  [ -z "${2:-}" ] || [[ $response == *"$2"* ]]
}

etcd_healthy() { http_ok "$1/health" '"health":"true"'; }

build() {
  local out=$1
  echo "publishing rdmakv-server and rdmakv to $out"
  for project in src/RdmaKv.Server src/RdmaKv.Cli; do
    dotnet publish "$repo/$project" -c Release -o "$out" -nologo -v quiet >"$state/publish.log" 2>&1 \
      || { cat "$state/publish.log" >&2; die "dotnet publish $project failed"; }
  done
}

make_network() {
  ip link add "$bridge" type bridge
  ip addr add "$bridge_address/24" dev "$bridge"
  ip link set "$bridge" up
  local i id ns veth
  for i in "${!ids[@]}"; do
    id=${ids[$i]}; ns=$(namespace_of "$id"); veth=$(host_veth_of "$id")
    address_of $((i + 1)) netns
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$bridge"
    ip link set "$veth" up
    ip -n "$ns" addr add "$host/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
}

remove_network() {
  can_use_netns || return 0
  local id
  for id in "${all_ids[@]}"; do
    # Deleting the namespace deletes its eth0 and with it the veth's other end.
    ip netns del "$(namespace_of "$id")" 2>/dev/null || true
    ip link del "$(host_veth_of "$id")" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
}

start() {
  local mode=netns build_wanted=1 arg
  for arg in "$@"; do
    case $arg in
      --loopback) mode=loopback ;;
      --no-build) build_wanted=0 ;;
      *) die "start does not know '$arg'" ;;
    esac
  done
  if [ "$coordination" = etcd ] && [ ! -x "$etcd_binary" ]; then
    die "$etcd_binary is missing: the cluster keeps its map and leases in etcd; install the Debian package etcd-server (apt-get install etcd-server), or run without etcd with RDMAKV_ETCD=0"
  fi
  if [ "$mode" = netns ] && ! can_use_netns; then
    echo "not root or no 'ip netns': the nodes run on 127.0.0.1 (--loopback)"
    mode=loopback
  fi
  mkdir -p "$state"
  # The nodes' logs hold their admin tokens, and the client token is here: this user's only.
  chmod 0700 "$state"
  # The state is not the repository's to track.
  [ -f "$state/.gitignore" ] || echo '*' >"$state/.gitignore"
  local id
  for id in "${ids[@]}"; do
    if node_pid "$id" >/dev/null; then die "$id is running already ($state); run '$0 stop' first"; fi
  done
  [ -z "$(stray_pids)" ] || die "nodes of $state are running already: $(stray_pids | tr '\n' ' '); run '$0 stop' first"
  [ -z "$(pids_with "$(etcd_command)")" ] || die "the etcd of $state is running already; run '$0 stop' first"

  # Nodes keep the cluster map in their data directories, and etcd keeps it too: addresses of the
  # other mode would stay, and a map of the other coordination would not fit.
  if [ -d "$state/${ids[0]}/data" ] || [ -d "$state/etcd/data" ]; then
    if [ -f "$state/mode" ] && [ "$(cat "$state/mode")" != "$mode" ]; then
      die "$state holds a $(cat "$state/mode") cluster's data; remove $state/node* and $state/etcd or use another RDMAKV_LOCAL_CLUSTER_DIR for a $mode one"
    fi
    if [ "$(cluster_coordination)" != "$coordination" ]; then
      die "$state holds the data of a cluster $(coordination_words "$(cluster_coordination)"); remove $state/node* and $state/etcd or use another RDMAKV_LOCAL_CLUSTER_DIR for one $(coordination_words "$coordination")"
    fi
  fi

  local publish=${RDMAKV_PUBLISH_DIR:-$state/publish}
  if [ -n "${RDMAKV_PUBLISH_DIR:-}" ]; then
    [ -f "$publish/rdmakv-server.dll" ] || die "RDMAKV_PUBLISH_DIR=$publish holds no rdmakv-server.dll"
  elif [ "$build_wanted" = 1 ] || [ ! -f "$publish/rdmakv-server.dll" ]; then
    build "$publish"
  fi

  echo "$mode" >"$state/mode"
  echo "$coordination" >"$state/coordination"
  echo "$publish" >"$state/publish-dir"
  cluster_json "$mode" "$coordination" >"$state/cluster.json"
  # One client token for every node (--client-token-file) and one cluster credential
  # (--cluster-token-file, for moves and maps between nodes; never given to clients), different
  # tokens, made here so they exist before any node.
  local secret
  for secret in client-token cluster-token; do
    if [ ! -s "$state/$secret" ]; then
      (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$state/$secret" && echo >>"$state/$secret")
    fi
  done

  if [ "$mode" = netns ]; then
    remove_network
    make_network
  fi

  if [ "$coordination" = etcd ]; then
    start_etcd "$mode"
    seed_map "$mode" "$publish"
  fi

  for id in "${ids[@]}"; do launch "$id" "$mode" "$publish"; done
  wait_up stop "${ids[@]}"

  echo "cluster up ($mode, $(coordination_words "$coordination")):"
  status_lines
  echo "seeds: $(seeds "$mode")"
  echo "token file: $state/client-token (clients), $state/cluster-token (nodes only), $state/admin-token (admin planes, shared)"
  echo "operator: dotnet $publish/rdmakv.dll cluster show --admin $(first_admin "$mode") --admin-token-file $state/admin-token"
  echo "client: RDMAKV_TOKEN_FILE=$state/client-token UCX_TLS=tcp UCX_NET_DEVICES=$([ "$mode" = netns ] && echo "$bridge" || echo lo) dotnet $publish/rdmakv.dll --connect $(seeds "$mode") put KEY VALUE"
}

# The coordination of the cluster in $state: etcd, or file (also a state from before etcd).
cluster_coordination() { cat "$state/coordination" 2>/dev/null || echo file; }

coordination_words() {
  if [ "$1" = etcd ]; then echo "with etcd, $replicas copies of every slot"; else echo "without etcd, from its cluster file"; fi
}

# Starts etcd for mode $1 in the background (its data and log in $state/etcd) and waits until it
# is healthy; on failure prints its log, stops what start began and exits 1.
start_etcd() {
  local mode=$1 deadline
  etcd_urls "$mode"
  mkdir -p "$state/etcd"
  rm -f "$state/etcd/pid"
  if [ -f "$state/etcd/log" ]; then mv -f "$state/etcd/log" "$state/etcd/log.1"; fi
  # The node's defaults suit etcd's (100 ms heartbeat, 1 s election timeout): the smallest lease
  # etcd grants is then 2 s, the node's default --lease-ttl. Auto-compaction keeps the map key's
  # revisions from piling up (docs/coordination.md). setsid as for a node (launch).
  # The first arguments are etcd_command's, which finds this process again.
  ( cd "$state/etcd" && exec setsid "$etcd_binary" --name rdmakv-local --data-dir "$state/etcd/data" \
      --listen-client-urls "$etcd_client" --advertise-client-urls "$etcd_client" \
      --listen-peer-urls "$etcd_peer" --initial-advertise-peer-urls "$etcd_peer" \
      --initial-cluster "rdmakv-local=$etcd_peer" --auto-compaction-retention 1 \
      --logger zap --log-level warn \
      </dev/null >"$state/etcd/log" 2>&1 ) &
  echo $! >"$state/etcd/pid"
  deadline=$((SECONDS + start_timeout))
  until etcd_healthy "$etcd_client"; do
    if ! etcd_pid >/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "local-cluster: etcd did not become healthy at $etcd_client within ${start_timeout}s; its log ($state/etcd/log):" >&2
      cat "$state/etcd/log" >&2 || true
      stop >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "etcd pid $(etcd_pid) $etcd_client healthy"
}

# Stores the cluster file as the map in etcd, unless etcd kept one from an earlier start.
seed_map() {
  local mode=$1 publish=$2 out code=0
  etcd_urls "$mode"
  out=$(dotnet "$publish/rdmakv.dll" cluster init "$state/cluster.json" --etcd "$etcd_client" 2>&1) || code=$?
  if [ $code = 0 ]; then
    echo "$out"
  elif [ $code = 2 ] && [[ $out == *"already holds a cluster map"* ]]; then
    echo "etcd kept the map of an earlier start: $out"
  else
    echo "local-cluster: rdmakv cluster init failed ($code): $out" >&2
    stop >&2
    exit 1
  fi
}

# Starts node $1 in mode $2 from publish directory $3, in the background, and writes its pid file.
# Its previous log, if any, is kept as log.1. With etcd the node takes the map from etcd and
# listens where the cluster file put it; without, it reads the cluster file.
launch() {
  local id=$1 mode=$2 publish=$3 i
  local -a cluster=(--cluster "$state/cluster.json")
  if [ "$(cluster_coordination)" = etcd ]; then
    etcd_urls "$mode"
    i=$(node_number "$id")
    address_of "$i" "$mode"
    cluster=(--etcd "$etcd_client" --listen "$ucx" --admin-urls "$admin")
  fi
  mkdir -p "$state/$id/data"
  rm -f "$state/$id/pid"
  if [ -f "$state/$id/log" ]; then mv -f "$state/$id/log" "$state/$id/log.1"; fi
  # UCX_MEM_MMAP_HOOK_MODE=none: UCX's default memory hooks patch munmap under the node's threads (README).
  local -a prefix=() env=(UCX_TLS=tcp UCX_NET_DEVICES=lo UCX_MEM_MMAP_HOOK_MODE=none)
  if [ "$mode" = netns ]; then
    prefix=(ip netns exec "$(namespace_of "$id")")
    env=(UCX_TLS=tcp UCX_NET_DEVICES=eth0 UCX_MEM_MMAP_HOOK_MODE=none)
  fi
  # setsid: the node outlives this script and a Ctrl-C in its terminal. In a script's background
  # subshell it does not fork, so $! stays the node's pid; stdin and stdout are not this script's,
  # so whoever reads this script's output sees its end.
  # The first arguments are node_command's, which finds this process again.
  # shellcheck disable=SC2086
  ( cd "$state/$id" && exec "${prefix[@]}" env "${env[@]}" setsid dotnet "$publish/rdmakv-server.dll" \
      --node-id "$id" --name "$id" --data-dir "$state/$id/data" "${cluster[@]}" \
      --client-token-file "$state/client-token" --cluster-token-file "$state/cluster-token" --admin-token-file "$state/admin-token" $node_args \
      </dev/null >"$state/$id/log" 2>&1 ) &
  echo $! >"$state/$id/pid"
}

# True when node $1 is up: its UCX listener is open and, with etcd, it serves (GET /health/ready
# answers 200: the controller took its run in and its leases hold).
node_up() {
  local id=$1 mode
  grep -q "remote clients connect with ucx://" "$state/$id/log" 2>/dev/null || return 1
  [ "$(cluster_coordination)" = etcd ] || return 0
  mode=$(cat "$state/mode")
  address_of "$(node_number "$id")" "$mode"
  http_ok "$admin/health/ready"
}

# Waits until every node named after $1 is up (node_up); when one exits first or the timeout
# passes, prints its log, runs $1 (stop, or stop_node_quietly for one node) and exits 1.
wait_up() {
  local on_failure=$1 id deadline=$((SECONDS + start_timeout)) waiting
  shift
  while :; do
    waiting=()
    for id in "$@"; do
      if node_up "$id"; then continue; fi
      if ! launched "$id"; then
        echo "local-cluster: $id exited before it was up; its log ($state/$id/log):" >&2
        cat "$state/$id/log" >&2 || true
        "$on_failure" "$@" >&2
        exit 1
      fi
      waiting+=("$id")
    done
    if [ ${#waiting[@]} -eq 0 ]; then break; fi
    if [ $SECONDS -ge $deadline ]; then
      for id in "${waiting[@]}"; do
        echo "local-cluster: $id did not open its UCX listener or serve within ${start_timeout}s; its log ($state/$id/log):" >&2
        cat "$state/$id/log" >&2 || true
        if [ "$(cluster_coordination)" = etcd ]; then
          address_of "$(node_number "$id")" "$(cat "$state/mode")"
          echo "its readiness ($admin/health/ready): $(http_get "$admin/health/ready" | tail -n 1)" >&2
        fi
      done
      "$on_failure" "$@" >&2
      exit 1
    fi
    sleep 0.5
  done
}

# The number (1-based) of node $1 in the topology.
node_number() {
  local i
  for i in "${!all_ids[@]}"; do if [ "${all_ids[$i]}" = "$1" ]; then echo $((i + 1)); return 0; fi; done
  die "no node '$1'"
}

# The node id for a command's argument: 1-3 or node1-node3, of the nodes this cluster started.
node_id() {
  local arg=$1 id
  [ -n "$arg" ] || die "which node? give 1-${#ids[@]} or node1-node${#ids[@]}"
  [[ "$arg" =~ ^[0-9]+$ ]] && arg=node$arg
  for id in "${ids[@]}"; do if [ "$id" = "$arg" ]; then echo "$id"; return 0; fi; done
  die "no node '$1' in this cluster (its nodes: ${ids[*]})"
}

# Stops node $1 with signal $2 (TERM: a clean stop, SIGKILL after the stop timeout; KILL: a crash).
stop_node() {
  local id=$1 signal=$2 pid deadline
  [ -f "$state/cluster.json" ] || die "no cluster in $state; run '$0 start' first"
  if ! pid=$(node_pid "$id"); then
    rm -f "$state/$id/pid"
    echo "$id is not running"
    return 0
  fi
  kill "-$signal" "$pid" 2>/dev/null || true
  [ "$signal" = TERM ] && deadline=$((SECONDS + stop_timeout)) || deadline=$((SECONDS + 10))
  while [ -d "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if [ -d "/proc/$pid" ]; then
    echo "$id ($pid) did not stop within ${stop_timeout}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while [ -d "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  fi
  [ -d "/proc/$pid" ] && die "$id ($pid) is still there after SIGKILL"
  rm -f "$state/$id/pid"
  if [ "$signal" = KILL ]; then
    echo "$id ($pid) killed; its data and shared memory stay as a crash leaves them ('$0 start-node $id' recovers it)"
  else
    echo "$id ($pid) stopped"
  fi
}

# For wait_up when one node did not come up: stop that node alone.
stop_node_quietly() { stop_node "$1" TERM >/dev/null || true; }

# Starts node $1 of a cluster started before (same mode, build and cluster file) and waits until it serves.
start_node() {
  local id=$1 mode publish i
  [ -f "$state/cluster.json" ] && [ -f "$state/mode" ] || die "no cluster in $state; run '$0 start' first"
  if node_pid "$id" >/dev/null; then die "$id is running already"; fi
  mode=$(cat "$state/mode")
  publish=${RDMAKV_PUBLISH_DIR:-$(cat "$state/publish-dir")}
  [ -f "$publish/rdmakv-server.dll" ] || die "$publish holds no rdmakv-server.dll"
  if [ "$mode" = netns ]; then
    can_use_netns || die "node $id runs in a network namespace: start-node needs root and 'ip netns'"
    ip netns list | grep -q "^$(namespace_of "$id")\b" || die "the namespace $(namespace_of "$id") is gone; run '$0 stop' and '$0 start'"
  fi
  if [ "$(cluster_coordination)" = etcd ]; then
    etcd_urls "$mode"
    etcd_healthy "$etcd_client" || die "etcd at $etcd_client does not answer (see $state/etcd/log), and $id would not start without it; run '$0 stop' and '$0 start'"
  fi
  launch "$id" "$mode" "$publish"
  wait_up stop_node_quietly "$id"
  for i in "${!ids[@]}"; do
    if [ "${ids[$i]}" = "$id" ]; then address_of $((i + 1)) "$mode"; fi
  done
  echo "$id pid $(node_pid "$id") ucx://$ucx admin $admin"
}

# Cuts node $1 off (isolate) or lets it back (heal): a partition. The bridge port of its veth
# stops (disabled) or resumes (forwarding) passing frames, so the node runs on, unreachable from
# the others, etcd and this host. Its link stays up on purpose: with the link down (no carrier)
# UCX finds no usable device in the namespace, which models a failed NIC, not a partition.
# Namespaces only.
link_of() {
  local id=$1 action=$2 port_state
  [ "$(cat "$state/mode" 2>/dev/null)" = netns ] || die "isolate and heal stop and resume a node's port on the bridge: they need a cluster started in network namespaces (as root, without --loopback)"
  can_use_netns || die "isolate and heal need root and 'ip netns'"
  command -v bridge >/dev/null || die "isolate and heal need 'bridge' (the Debian package iproute2)"
  if [ "$action" = isolate ]; then port_state=disabled; else port_state=forwarding; fi
  # The port states' numbers: 0 disabled, 3 forwarding (settable by hand on a bridge without STP).
  bridge link set dev "$(host_veth_of "$id")" state "$([ "$port_state" = disabled ] && echo 0 || echo 3)" \
    || die "cannot set the bridge port $(host_veth_of "$id") $port_state"
  if [ "$action" = isolate ]; then echo "$id isolated (bridge port $(host_veth_of "$id") disabled)"; else echo "$id healed (bridge port $(host_veth_of "$id") forwarding)"; fi
}

first_admin() {
  if [ "$1" = netns ]; then echo "http://$subnet.11:$admin_port"; else echo "http://127.0.0.1:$((admin_port + 1))"; fi
}

status_lines() {
  local mode i id pid
  mode=$(cat "$state/mode" 2>/dev/null || echo netns)
  for i in "${!ids[@]}"; do
    id=${ids[$i]}
    address_of $((i + 1)) "$mode"
    if pid=$(node_pid "$id"); then
      echo "$id pid $pid ucx://$ucx admin $admin"
    else
      echo "$id stopped ucx://$ucx admin $admin"
    fi
  done
  if [ "$(cluster_coordination)" = etcd ]; then
    etcd_urls "$mode"
    if ! pid=$(etcd_pid); then
      echo "etcd stopped $etcd_client"
    elif etcd_healthy "$etcd_client"; then
      echo "etcd pid $pid $etcd_client healthy"
    else
      echo "etcd pid $pid $etcd_client unhealthy: $(http_get "$etcd_client/health" | tail -n 1)"
    fi
  fi
}

status() {
  [ -d "$state" ] || { echo "no cluster in $state"; return 1; }
  local lines
  lines=$(status_lines)
  echo "$lines"
  ! grep -qE " (stopped|unhealthy)" <<<"$lines"
}

# Waits up to $1 seconds until none of the processes $2... exists; fails if one still does.
wait_gone() {
  local deadline=$((SECONDS + $1)) pid left
  shift
  while :; do
    left=0
    for pid in "$@"; do if [ -d "/proc/$pid" ]; then left=1; fi; done
    if [ $left = 0 ]; then return 0; fi
    if [ $SECONDS -ge $deadline ]; then return 1; fi
    sleep 0.2
  done
}

# Sends SIGTERM to the processes $3... ($1 says what they are), waits up to $2 seconds, then
# SIGKILLs those left and waits (bounded) until they are gone.
stop_processes() {
  local what=$1 timeout=$2 pid
  shift 2
  echo "stopping $what: $* (SIGTERM)"
  kill -TERM "$@" 2>/dev/null || true
  if wait_gone "$timeout" "$@"; then return 0; fi
  for pid in "$@"; do
    if [ -d "/proc/$pid" ]; then
      echo "$pid did not stop within ${timeout}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # A killed process is gone once its parent (init, since setsid) reaps it; wait for that, bounded.
  wait_gone 10 "$@" || true
}

stop() {
  local id pid pids=()
  for id in "${all_ids[@]}"; do
    if pid=$(node_pid "$id"); then pids+=("$pid"); fi
  done
  for pid in $(stray_pids); do
    [[ " ${pids[*]} " == *" $pid "* ]] || pids+=("$pid")
  done
  if [ ${#pids[@]} -gt 0 ]; then stop_processes "the nodes (they checkpoint before they exit)" "$stop_timeout" "${pids[@]}"; fi
  # etcd after the nodes: a node that stops cleanly revokes its lease there.
  pids=()
  for pid in $(pids_with "$(etcd_command)"); do pids+=("$pid"); done
  if [ ${#pids[@]} -gt 0 ]; then stop_processes etcd 20 "${pids[@]}"; fi
  rm -f "$state/etcd/pid"
  for id in "${all_ids[@]}"; do
    rm -f "$state/$id/pid"
    # A node that had to be killed leaves its shared memory behind.
    rm -rf "/dev/shm/rdmakv-$id"
  done
  remove_network
  echo "stopped"
}

command=${1:-}
[ $# -gt 0 ] && shift
case $command in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  topology | cluster-file)
    mode=netns
    if [ "${1:-}" = --loopback ]; then mode=loopback; fi
    if [ "$command" = topology ]; then topology "$mode"; else cluster_json "$mode" "$coordination"; fi ;;
  # The id is resolved in an assignment first: a bad one stops the script there (set -e).
  stop-node) id=$(node_id "${1:-}"); stop_node "$id" TERM ;;
  kill-node) id=$(node_id "${1:-}"); stop_node "$id" KILL ;;
  start-node) id=$(node_id "${1:-}"); start_node "$id" ;;
  restart-node) id=$(node_id "${1:-}"); stop_node "$id" TERM; start_node "$id" ;;
  isolate) id=$(node_id "${1:-}"); link_of "$id" isolate ;;
  heal) id=$(node_id "${1:-}"); link_of "$id" heal ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac

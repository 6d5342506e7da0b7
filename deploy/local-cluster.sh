#!/usr/bin/env bash
# A three-node RdmaKv cluster on this host without Docker: the topology of docker-compose.yml and
# deploy/cluster.json (node1..node3 at 10.90.0.11-13, UCX port 7400, admin port 7480).
#
# Usage: deploy/local-cluster.sh start [--loopback] [--no-build]
#        deploy/local-cluster.sh stop
#        deploy/local-cluster.sh status
#        deploy/local-cluster.sh topology [--loopback]      (one line a node: ID UCX ADMIN)
#        deploy/local-cluster.sh cluster-file [--loopback]  (the cluster file start writes)
#        deploy/local-cluster.sh stop-node N       (N: 1-3 or node1-node3; SIGTERM, a clean stop)
#        deploy/local-cluster.sh start-node N      (again, with its data; waits until it serves)
#        deploy/local-cluster.sh restart-node N    (stop-node, then start-node)
#        deploy/local-cluster.sh kill-node N       (SIGKILL, as a crash: data and shared memory stay
#                                                   as it left them; start-node recovers and sweeps)
#        deploy/local-cluster.sh isolate N         (namespaces only: node N's veth link down; it runs on,
#                                                   unreachable from the others and this host)
#        deploy/local-cluster.sh heal N            (its link up again)
#
# As root with `ip netns`, each node runs in a network namespace rdmakv-nodeN whose eth0 (one end
# of a veth pair) has 10.90.0.1N/24; the other ends are on the bridge rdmakv-br0 (10.90.0.1/24),
# so this host reaches every node and nothing is routed beyond the bridge. Otherwise, or with
# --loopback, the nodes listen on 127.0.0.1, UCX ports 7401-7403 and admin ports 7481-7483.
#
# State (publish output, cluster file, client token, each node's data, log and pid) is kept in
# $RDMAKV_LOCAL_CLUSTER_DIR, default ./local-cluster. Other settings from the environment:
#   RDMAKV_PUBLISH_DIR     a directory that already holds rdmakv-server.dll (and rdmakv.dll): no build
#   RDMAKV_NODE_ARGS       extra arguments for every node (default: --memory 64m --store-memory 64m)
#   RDMAKV_START_TIMEOUT   seconds to wait for every node's UCX listener (default 90)
#   RDMAKV_STOP_TIMEOUT    seconds to wait for the nodes' clean stop before SIGKILL (default 60)
#   RDMAKV_NODES           1 or 2: start only the first nodes (default 3)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state=$(realpath -m "${RDMAKV_LOCAL_CLUSTER_DIR:-./local-cluster}")
start_timeout=${RDMAKV_START_TIMEOUT:-90}
stop_timeout=${RDMAKV_STOP_TIMEOUT:-60}
node_args=${RDMAKV_NODE_ARGS:---memory 64m --store-memory 64m}

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

can_use_netns() { [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns list >/dev/null 2>&1; }

die() { echo "local-cluster: $*" >&2; exit 1; }

topology() {
  local mode=$1 i
  for i in "${!ids[@]}"; do
    address_of $((i + 1)) "$mode"
    echo "${ids[$i]} $ucx $admin"
  done
}

cluster_json() {
  local mode=$1 i sep=""
  printf '{\n  "epoch": 1,\n  "slots": %d,\n  "nodes": [\n' "$slots"
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

# The pid in the node's pid file when that process is still the node this script started.
node_pid() {
  local file=$state/$1/pid pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--cluster $state/cluster.json --node-id $1 " || return 1
  echo "$pid"
}

# Every process running a node of this state directory, pid file or not.
stray_pids() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [ "$pid" = $$ ] && continue
    if tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "rdmakv-server.dll --cluster $state/cluster.json "; then echo "$pid"; fi
  done
  return 0
}

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

  # Nodes keep the cluster map in their data directories: addresses of the other mode would stay.
  if [ -f "$state/mode" ] && [ "$(cat "$state/mode")" != "$mode" ] && [ -d "$state/${ids[0]}/data" ]; then
    die "$state holds a $(cat "$state/mode") cluster's data; remove $state/node* or use another RDMAKV_LOCAL_CLUSTER_DIR for a $mode one"
  fi

  local publish=${RDMAKV_PUBLISH_DIR:-$state/publish}
  if [ -n "${RDMAKV_PUBLISH_DIR:-}" ]; then
    [ -f "$publish/rdmakv-server.dll" ] || die "RDMAKV_PUBLISH_DIR=$publish holds no rdmakv-server.dll"
  elif [ "$build_wanted" = 1 ] || [ ! -f "$publish/rdmakv-server.dll" ]; then
    build "$publish"
  fi

  echo "$mode" >"$state/mode"
  echo "$publish" >"$state/publish-dir"
  cluster_json "$mode" >"$state/cluster.json"
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

  for id in "${ids[@]}"; do launch "$id" "$mode" "$publish"; done
  wait_up stop "${ids[@]}"

  echo "cluster up ($mode):"
  status_lines
  echo "seeds: $(seeds "$mode")"
  echo "token file: $state/client-token (clients), $state/cluster-token (nodes only), $state/admin-token (admin planes, shared)"
  echo "operator: dotnet $publish/rdmakv.dll cluster show --admin $(first_admin "$mode") --admin-token-file $state/admin-token"
  echo "client: RDMAKV_TOKEN_FILE=$state/client-token UCX_TLS=tcp UCX_NET_DEVICES=$([ "$mode" = netns ] && echo "$bridge" || echo lo) dotnet $publish/rdmakv.dll --connect $(seeds "$mode") put KEY VALUE"
}

# Starts node $1 in mode $2 from publish directory $3, in the background, and writes its pid file.
# Its previous log, if any, is kept as log.1.
launch() {
  local id=$1 mode=$2 publish=$3
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
  # shellcheck disable=SC2086
  ( cd "$state/$id" && exec "${prefix[@]}" env "${env[@]}" setsid dotnet "$publish/rdmakv-server.dll" \
      --cluster "$state/cluster.json" --node-id "$id" --name "$id" \
      --data-dir "$state/$id/data" --client-token-file "$state/client-token" --cluster-token-file "$state/cluster-token" --admin-token-file "$state/admin-token" $node_args \
      </dev/null >"$state/$id/log" 2>&1 ) &
  echo $! >"$state/$id/pid"
}

# Waits until every node named after $1 has its UCX listener up; when one exits first or the
# timeout passes, prints its log, runs $1 (stop, or stop_node_quietly for one node) and exits 1.
wait_up() {
  local on_failure=$1 id deadline=$((SECONDS + start_timeout)) waiting
  shift
  while :; do
    waiting=()
    for id in "$@"; do
      if grep -q "remote clients connect with ucx://" "$state/$id/log" 2>/dev/null; then continue; fi
      if ! node_pid "$id" >/dev/null; then
        echo "local-cluster: $id exited before its UCX listener was up; its log ($state/$id/log):" >&2
        cat "$state/$id/log" >&2 || true
        "$on_failure" "$@" >&2
        exit 1
      fi
      waiting+=("$id")
    done
    if [ ${#waiting[@]} -eq 0 ]; then break; fi
    if [ $SECONDS -ge $deadline ]; then
      for id in "${waiting[@]}"; do
        echo "local-cluster: $id did not open its UCX listener within ${start_timeout}s; its log ($state/$id/log):" >&2
        cat "$state/$id/log" >&2 || true
      done
      "$on_failure" "$@" >&2
      exit 1
    fi
    sleep 0.5
  done
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
  launch "$id" "$mode" "$publish"
  wait_up stop_node_quietly "$id"
  for i in "${!ids[@]}"; do
    if [ "${ids[$i]}" = "$id" ]; then address_of $((i + 1)) "$mode"; fi
  done
  echo "$id pid $(node_pid "$id") ucx://$ucx admin $admin"
}

# Sets node $1's link on the bridge $2 (down: the node is cut off from the others and from this
# host, but runs on; up: it is reachable again). Namespaces only.
link_of() {
  local id=$1 state_wanted=$2
  [ "$(cat "$state/mode" 2>/dev/null)" = netns ] || die "isolate and heal cut a node's veth link: they need a cluster started in network namespaces (as root, without --loopback)"
  can_use_netns || die "isolate and heal need root and 'ip netns'"
  ip link set "$(host_veth_of "$id")" "$state_wanted" || die "cannot set $(host_veth_of "$id") $state_wanted"
  if [ "$state_wanted" = down ]; then echo "$id isolated (link $(host_veth_of "$id") down)"; else echo "$id healed (link $(host_veth_of "$id") up)"; fi
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
}

status() {
  [ -d "$state" ] || { echo "no cluster in $state"; return 1; }
  local lines
  lines=$(status_lines)
  echo "$lines"
  ! grep -q " stopped " <<<"$lines"
}

stop() {
  local id pid pids=() deadline
  for id in "${all_ids[@]}"; do
    if pid=$(node_pid "$id"); then pids+=("$pid"); fi
  done
  for pid in $(stray_pids); do
    [[ " ${pids[*]} " == *" $pid "* ]] || pids+=("$pid")
  done
  if [ ${#pids[@]} -gt 0 ]; then
    echo "stopping ${pids[*]} (SIGTERM; the nodes checkpoint before they exit)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    deadline=$((SECONDS + stop_timeout))
    while [ $SECONDS -lt $deadline ]; do
      local alive=()
      for pid in "${pids[@]}"; do if [ -d "/proc/$pid" ]; then alive+=("$pid"); fi; done
      if [ ${#alive[@]} -eq 0 ]; then break; fi
      sleep 0.5
    done
    for pid in "${pids[@]}"; do
      if [ -d "/proc/$pid" ]; then
        echo "$pid did not stop within ${stop_timeout}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    # A killed process is gone once its parent (init, since setsid) reaps it; wait for that, bounded.
    deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
      local left=0
      for pid in "${pids[@]}"; do if [ -d "/proc/$pid" ]; then left=1; fi; done
      if [ $left = 0 ]; then break; fi
      sleep 0.2
    done
  fi
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
    if [ "$command" = topology ]; then topology "$mode"; else cluster_json "$mode"; fi ;;
  # The id is resolved in an assignment first: a bad one stops the script there (set -e).
  stop-node) id=$(node_id "${1:-}"); stop_node "$id" TERM ;;
  kill-node) id=$(node_id "${1:-}"); stop_node "$id" KILL ;;
  start-node) id=$(node_id "${1:-}"); start_node "$id" ;;
  restart-node) id=$(node_id "${1:-}"); stop_node "$id" TERM; start_node "$id" ;;
  isolate) id=$(node_id "${1:-}"); link_of "$id" down ;;
  heal) id=$(node_id "${1:-}"); link_of "$id" up ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac

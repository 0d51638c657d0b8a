#!/usr/bin/env bash
# Runs a local repshard network of N validators on loopback.
#
#   scripts/localnet.sh start [N]   write N node homes (repshardd testnet init-files
#                                   --single-host) if none exist, start one
#                                   `repshardd start` per node and return once every
#                                   node is at height >= 2. Default N: $LOCALNET_NODES or 4.
#                                   `start 1` is a single-validator chain. Then
#                                   $LOCALNET_WORKERS (2) worker daemons: on first start each
#                                   worker account gets a key, funds from node0 and registers
#                                   (tx shard register-worker); each `repshardd worker run`
#                                   talks to node (j-1) mod N (RPC and gRPC).
#   scripts/localnet.sh stop        SIGTERM every worker and node, SIGKILL after a grace period.
#                                   Files stay (a later `start` resumes the chain)
#                                   unless LOCALNET_CLEAN=1, which removes the folder.
#   scripts/localnet.sh status      one line per process (nodes, then workers): name,
#                                   role, home, RPC, PID, height (a worker: of its node).
#                                   Exit status 0 when every process is up, 1 otherwise.
#
# Kill and restart one process (status gives its PID and HOME):
#   kill -9 PID; repshardd start --home HOME          (a node)
#   kill -9 PID; repshardd worker run --home HOME     (a worker: client.toml there names
#                                                      its key, node and chain id)
# `start` also restarts whatever is down, and `stop` finds restarted processes.
#
# Layout ($LOCALNET_DIR, default <repo>/.localnet):
#   node<i>/repshardd/   node home, holding validator i's key "node<i>" (keyring test):
#                        repshardd tx ... --from node0 --home .localnet/node0/repshardd \
#                          --keyring-backend test --chain-id repshard-local-1 --node tcp://127.0.0.1:26657
#   logs/node<i>.log     node output        pids/node<i>.pid   node PID
#   worker<j>/           worker j's home (j = 1..), key "worker<j>" (keyring test), state file
#   logs/worker<j>.log   daemon output      pids/worker<j>.pid daemon PID
# Ports of node i: P2P 26656+100i, RPC 26657+100i, REST 1317+100i, gRPC 9090+100i,
# all shifted by LOCALNET_PORT_BASE-26657 (see `repshardd testnet init-files --help`);
# worker j serves Prometheus metrics on 26661+100(j-1) (shifted alike); node i serves
# its own (app.toml [telemetry] enabled) at http://127.0.0.1:<REST>/metrics?format=prometheus.
#
# Environment: REPSHARDD (binary, default <repo>/build/repshardd; this script never
# builds), LOCALNET_DIR, LOCALNET_NODES, LOCALNET_CHAIN_ID (repshard-local-1),
# LOCALNET_START_TIMEOUT (seconds to wait for blocks, 120), LOCALNET_STOP_GRACE
# (seconds between SIGTERM and SIGKILL, 15), LOCALNET_CLEAN (1: stop also deletes),
# LOCALNET_PORT_BASE (RPC port of node0, 26657; e.g. 46657 keeps clear of a default
# localnet and of make demo), LOCALNET_COMMIT_TIMEOUT (timeout_commit of a new network, 1s),
# LOCALNET_WORKERS (worker daemons, 2), LOCALNET_WORKER_CLASSES (classes each worker
# registers for, high-priority: they share one shard), LOCALNET_WORKER_CAPACITY
# (compute units, 100), LOCALNET_WORKER_STORAGE (storage bytes, 1 GiB: a request goes
# only to a worker whose storage covers its data), LOCALNET_WORKER_ARGS (extra
# `worker run` flags, e.g. --exec CMD), LOCALNET_SNAPSHOT_INTERVAL (a new network's nodes
# take a state sync snapshot every this many blocks, app.toml [state-sync]
# snapshot-interval, 20; 0 turns snapshots off), LOCALNET_SNAPSHOT_KEEP (snapshots each
# node keeps and serves, snapshot-keep-recent, 2). A new node joins by state sync from
# these snapshots: docs/operations.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# abspath P: P made absolute against the current folder (P need not exist).
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

if [[ -n ${REPSHARDD:-} ]]; then
  if [[ $REPSHARDD == */* ]]; then BIN=$(abspath "$REPSHARDD"); else BIN=$(command -v "$REPSHARDD" || echo "$REPSHARDD"); fi
else
  BIN=$ROOT/build/repshardd
fi
if [[ -n ${LOCALNET_DIR:-} ]]; then DIR=$(abspath "$LOCALNET_DIR"); else DIR=$ROOT/.localnet; fi
CHAIN_ID=${LOCALNET_CHAIN_ID:-repshard-local-1}
START_TIMEOUT=${LOCALNET_START_TIMEOUT:-120}
STOP_GRACE=${LOCALNET_STOP_GRACE:-15}
PORT_BASE=${LOCALNET_PORT_BASE:-26657}
COMMIT_TIMEOUT=${LOCALNET_COMMIT_TIMEOUT:-1s}
WORKERS=${LOCALNET_WORKERS:-2}
WORKER_CLASSES=${LOCALNET_WORKER_CLASSES:-high-priority}
WORKER_CAPACITY=${LOCALNET_WORKER_CAPACITY:-100}
WORKER_STORAGE=${LOCALNET_WORKER_STORAGE:-1073741824}
WORKER_FUND=100000000urep
SNAPSHOT_INTERVAL=${LOCALNET_SNAPSHOT_INTERVAL:-20}
SNAPSHOT_KEEP=${LOCALNET_SNAPSHOT_KEEP:-2}
FEES=5000urep
[[ $PORT_BASE =~ ^[0-9]+$ ]] || { echo "localnet: LOCALNET_PORT_BASE must be a port number" >&2; exit 1; }
[[ $WORKERS =~ ^[0-9]+$ ]] || { echo "localnet: LOCALNET_WORKERS must be a number" >&2; exit 1; }
[[ $SNAPSHOT_INTERVAL =~ ^[0-9]+$ ]] || { echo "localnet: LOCALNET_SNAPSHOT_INTERVAL must be a number" >&2; exit 1; }
[[ $SNAPSHOT_KEEP =~ ^[0-9]+$ ]] || { echo "localnet: LOCALNET_SNAPSHOT_KEEP must be a number" >&2; exit 1; }
PORT_OFFSET=$((PORT_BASE - 26657))
DAEMON_HOME=repshardd # --node-daemon-home of init-files
LOGS=$DIR/logs
PIDS=$DIR/pids

die() {
  printf 'localnet: %s\n' "$*" >&2
  exit 1
}
say() { printf 'localnet: %s\n' "$*"; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
  exit "${1:-0}"
}

need_bin() {
  [[ -x $BIN && ! -d $BIN ]] ||
    die "repshardd binary not found at $BIN: build it first (make build, or go build -o build/repshardd ./cmd/repshardd) or set REPSHARDD=/path/to/repshardd"
}

node_home() { printf '%s/node%d/%s\n' "$DIR" "$1" "$DAEMON_HOME"; }

# node_count: number of node homes in $DIR (0 when there is no network).
node_count() {
  local n=0
  while [[ -d $(node_home "$n") ]]; do n=$((n + 1)); done
  printf '%d\n' "$n"
}

# toml_value FILE SECTION KEY: the string value of KEY in [SECTION] ("" = top level).
toml_value() {
  awk -v want="$2" -v key="$3" '
    /^[[:space:]]*\[/ { s = $0; gsub(/[][[:space:]]/, "", s); section = s; next }
    section == want && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
      v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); gsub(/"/, "", v); print v; exit
    }' "$1"
}

# toml_set FILE SECTION KEY VALUE: sets KEY (already in [SECTION]) to the raw
# VALUE (quote strings yourself); fails when the key is not there.
toml_set() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  if ! awk -v want="$2" -v key="$3" -v value="$4" '
    /^[[:space:]]*\[/ { s = $0; gsub(/[][[:space:]]/, "", s); section = s }
    section == want && !done && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" { print key " = " value; done = 1; next }
    { print }
    END { exit done ? 0 : 1 }' "$1" >"$tmp"; then
    rm -f "$tmp"
    die "$1: no key $3 in [$2]"
  fi
  mv "$tmp" "$1"
}

# enable_telemetry I: node I exports its telemetry (the SDK's metrics and
# repshard's, listed in docs/metrics.md) in the Prometheus text format at
# http://<its REST API address>/metrics?format=prometheus. A metric not
# updated for prometheus-retention-time seconds leaves the scrape, so it is
# long (one hour) for a localnet whose counters may sit still for minutes.
enable_telemetry() {
  local app
  app=$(node_home "$1")/config/app.toml
  toml_set "$app" telemetry enabled true
  toml_set "$app" telemetry prometheus-retention-time 3600
  toml_set "$app" api enable true
}

# enable_snapshots I: node I takes a state sync snapshot every
# SNAPSHOT_INTERVAL blocks and keeps SNAPSHOT_KEEP of them.
enable_snapshots() {
  local app
  app=$(node_home "$1")/config/app.toml
  toml_set "$app" state-sync snapshot-interval "$SNAPSHOT_INTERVAL"
  toml_set "$app" state-sync snapshot-keep-recent "$SNAPSHOT_KEEP"
}

# port_of ADDRESS: the port at the end of tcp://host:port or host:port.
port_of() { printf '%s\n' "${1##*:}"; }

node_rpc() { toml_value "$(node_home "$1")/config/client.toml" "" node; }

# node_ports I: every port node I listens on (P2P, RPC, ABCI, REST, gRPC).
node_ports() {
  local home cfg app
  home=$(node_home "$1")
  cfg=$home/config/config.toml
  app=$home/config/app.toml
  port_of "$(toml_value "$cfg" p2p laddr)"
  port_of "$(toml_value "$cfg" rpc laddr)"
  port_of "$(toml_value "$cfg" "" proxy_app)"
  port_of "$(toml_value "$app" api address)"
  port_of "$(toml_value "$app" grpc address)"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# alive PID: the process exists and has not exited (a zombie has). Right
# after `nohup repshardd ... &` the PID may still be the shell about to exec
# repshardd, whose command line node_pid and worker_pid do not recognise:
# the start loops ask alive about the PIDs they started.
alive() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $stat && $stat != Z* ]]
}

# node_pid I: the PID of node I when that process is alive and is our
# `repshardd start --home <home>` (a stale PID file or a reused PID gives "").
node_pid() {
  local file=$PIDS/node$1.pid pid args
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  args=$(ps -o args= -p "$pid" 2>/dev/null) || return 0
  [[ $args == *"start --home $(node_home "$1")"* ]] && printf '%s\n' "$pid"
  return 0
}

worker_home() { printf '%s/worker%d\n' "$DIR" "$1"; }

# worker_node J: the node (index) worker J talks to.
worker_node() { printf '%d\n' $((($1 - 1) % $(node_count))); }

worker_metrics_port() { printf '%d\n' $((26661 + PORT_OFFSET + 100 * ($1 - 1))); }

# worker_pid J: the PID of worker J's `repshardd worker run --home <home>`, or "".
worker_pid() {
  local file=$PIDS/worker$1.pid pid args
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  args=$(ps -o args= -p "$pid" 2>/dev/null) || return 0
  [[ $args == *"worker run --home $(worker_home "$1")"* ]] && printf '%s\n' "$pid"
  return 0
}

# worker_count: worker homes in $DIR.
worker_count() {
  local n=0
  while [[ -d $(worker_home $((n + 1))) ]]; do n=$((n + 1)); done
  printf '%d\n' "$n"
}

# node_status_json I: `repshardd status` of node I, or nothing when it is down.
node_status_json() {
  local home
  home=$(node_home "$1")
  "$BIN" status --home "$home" --node "$(node_rpc "$1")" 2>/dev/null || true
}

json_num() { grep -oE "\"$1\":\"?[0-9]+" | head -n 1 | grep -oE '[0-9]+$' || true; }
json_str() { grep -oE "\"$1\":\"[^\"]*\"" | head -n 1 | sed -E 's/.*:"(.*)"$/\1/' || true; }

node_height() { node_status_json "$1" | json_num latest_block_height; }

log_hint() {
  local log=$LOGS/node$1.log
  printf '\n---- last 25 lines of %s ----\n' "$log" >&2
  tail -n 25 "$log" >&2 2>/dev/null || true
  printf -- '---- full log: %s ----\n' "$log" >&2
}

cmd_start() {
  need_bin
  local want=${1:-} have n i pid
  if [[ -n $want && ! $want =~ ^[1-9][0-9]*$ ]]; then die "N must be a positive integer, got '$want'"; fi
  have=$(node_count)

  if ((have == 0)); then
    n=${want:-${LOCALNET_NODES:-4}}
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "LOCALNET_NODES must be a positive integer, got '$n'"
    if [[ -e $DIR/gentxs ]]; then
      die "$DIR holds a partial network (gentxs/ but no node0/): remove it (LOCALNET_CLEAN=1 $0 stop)"
    fi
    say "writing $n node home(s) into $DIR (chain $CHAIN_ID)"
    # A scratch --home keeps this CLI call from writing into ~/.repshard.
    local scratch
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/repshard-localnet.XXXXXX")
    if ! "$BIN" testnet init-files --single-host -n "$n" -o "$DIR" --chain-id "$CHAIN_ID" \
      --keyring-backend test --home "$scratch" --port-offset "$PORT_OFFSET" --commit-timeout "$COMMIT_TIMEOUT"; then
      rm -rf "$scratch"
      die "testnet init-files failed (see above)"
    fi
    rm -rf "$scratch"
    for ((i = 0; i < n; i++)); do enable_telemetry "$i"; enable_snapshots "$i"; done
  else
    n=$have
    if [[ -n $want && $want != "$have" ]]; then
      die "$DIR already holds a $have-node network; to start $want nodes, remove it first: LOCALNET_CLEAN=1 $0 stop"
    fi
  fi
  mkdir -p "$LOGS" "$PIDS"

  local running=0 started=()
  local -A started_pid=()
  for ((i = 0; i < n; i++)); do
    if [[ -n $(node_pid "$i") ]]; then running=$((running + 1)); fi
  done
  if ((running == n)); then
    say "validators already running ($n node(s) in $DIR)"
    start_workers
    cmd_status || true
    return 0
  fi

  # Check every port first, so a conflict never leaves a half-started network.
  local home port
  for ((i = 0; i < n; i++)); do
    [[ -z $(node_pid "$i") ]] || continue
    for port in $(node_ports "$i"); do
      if port_in_use "$port"; then
        die "node$i: port $port on 127.0.0.1 is already in use (another node or chain running?); stop it and retry"
      fi
    done
  done

  for ((i = 0; i < n; i++)); do
    [[ -z $(node_pid "$i") ]] || continue
    home=$(node_home "$i")
    printf '\n==== %s: repshardd start --home %s ====\n' "$(date -u +%FT%TZ)" "$home" >>"$LOGS/node$i.log"
    nohup "$BIN" start --home "$home" </dev/null >>"$LOGS/node$i.log" 2>&1 &
    pid=$!
    printf '%d\n' "$pid" >"$PIDS/node$i.pid"
    started+=("$i")
    started_pid[$i]=$pid
    say "node$i started: pid $pid, RPC $(node_rpc "$i"), log $LOGS/node$i.log"
  done

  # Wait until every node has committed height >= 2 and has seen a new block
  # since it was started (a restarted node first reports its stored height),
  # and is no longer catching up.
  local deadline=$((SECONDS + START_TIMEOUT)) pending=() still out h
  local -A first=()
  if ((running > 0)); then
    for ((i = 0; i < n; i++)); do pending+=("$i"); done
  else
    pending=("${started[@]}")
  fi
  say "waiting for blocks on ${#pending[@]} node(s) (timeout ${START_TIMEOUT}s)"
  while ((${#pending[@]} > 0)); do
    still=()
    for i in "${pending[@]}"; do
      if ! alive "${started_pid[$i]:-$(node_pid "$i")}"; then
        log_hint "$i"
        die "node$i exited while starting; see $LOGS/node$i.log (stop the rest with: $0 stop)"
      fi
      out=$(node_status_json "$i")
      h=$(json_num latest_block_height <<<"$out")
      if [[ -n $h && -z ${first[$i]:-} ]]; then first[$i]=$h; fi
      if [[ -n $h ]] && ((h >= 2 && h > ${first[$i]})) && [[ $out == *'"catching_up":false'* ]]; then
        say "node$i producing blocks (height $h)"
      else
        still+=("$i")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      for i in "${pending[@]}"; do log_hint "$i"; done
      die "no new blocks on node(s) ${pending[*]/#/node} within ${START_TIMEOUT}s; see the log(s) above in $LOGS (the nodes are still running: $0 stop)"
    fi
    sleep 1
  done
  say "localnet up: $n validator(s), chain $CHAIN_ID"
  start_workers
  cmd_status || true
}

# rsd_node0 ARGS...: repshardd against node0 with its home (validator key node0).
rsd_node0() { "$BIN" --home "$(node_home 0)" "$@"; }

# wait_tx HASH: waits until the tx is in a block (30 s), fails if it failed.
wait_tx() {
  local out code
  for _ in $(seq 1 60); do
    if out=$(rsd_node0 query tx "$1" -o json 2>/dev/null); then
      code=$(json_num code <<<"$out")
      [[ ${code:-0} == 0 ]] || die "tx $1 failed (code $code): $(json_str raw_log <<<"$out")"
      return 0
    fi
    sleep 0.5
  done
  die "tx $1 was not in a block within 30 s"
}

# broadcast ARGS...: repshardd tx ARGS (with --home and --from given by the
# caller) in sync mode; waits for the block.
broadcast() {
  local out code hash
  out=$("$BIN" tx "$@" --keyring-backend test --chain-id "$CHAIN_ID" --node "$(node_rpc 0)" \
    --fees "$FEES" --gas 400000 -y -o json) || die "repshardd tx $1 $2 failed"
  code=$(json_num code <<<"$out")
  hash=$(json_str txhash <<<"$out")
  [[ ${code:-0} == 0 && -n $hash ]] || die "repshardd tx $1 $2 refused: $out"
  wait_tx "$hash"
}

# setup_workers: for each worker without a home: key, client.toml, funds from
# node0 and registration. A worker is ready once worker<j>/registered exists.
setup_workers() {
  local j home addr addrs=() new=() bond
  for ((j = 1; j <= WORKERS; j++)); do
    home=$(worker_home "$j")
    [[ -f $home/registered ]] && continue
    mkdir -p "$home/config"
    if ! "$BIN" keys show "worker$j" --keyring-backend test --home "$home" >/dev/null 2>&1; then
      "$BIN" keys add "worker$j" --keyring-backend test --home "$home" >/dev/null 2>&1 || die "keys add worker$j failed"
    fi
    cat >"$home/config/client.toml" <<EOT
chain-id = "$CHAIN_ID"
keyring-backend = "test"
keyring-default-keyname = "worker$j"
output = "text"
node = "$(node_rpc "$(worker_node "$j")")"
broadcast-mode = "sync"
EOT
    addr=$("$BIN" keys show "worker$j" -a --keyring-backend test --home "$home")
    addrs+=("$addr")
    new+=("$j")
  done
  ((${#new[@]} > 0)) || return 0
  say "funding and registering worker(s) ${new[*]/#/worker} (classes $WORKER_CLASSES, capacity $WORKER_CAPACITY, storage $WORKER_STORAGE)"
  if ((${#addrs[@]} == 1)); then
    broadcast bank send node0 "${addrs[0]}" "$WORKER_FUND" --home "$(node_home 0)" --from node0
  else
    broadcast bank multi-send node0 "${addrs[@]}" "$WORKER_FUND" --home "$(node_home 0)" --from node0
  fi
  bond=$(rsd_node0 query shard params -o json --node "$(node_rpc 0)" | tr -d ' \n' |
    grep -oE '"min_worker_bond":\{[^}]*\}' | json_num amount)
  [[ -n $bond ]] || die "could not read the x/shard min_worker_bond"
  for j in "${new[@]}"; do
    home=$(worker_home "$j")
    broadcast shard register-worker "$WORKER_CLASSES" "$WORKER_CAPACITY" "${bond}urep" --storage-bytes "$WORKER_STORAGE" \
      --home "$home" --from "worker$j"
    : >"$home/registered"
    say "worker$j registered: $("$BIN" keys show "worker$j" -a --keyring-backend test --home "$home")"
  done
}

# start_workers: sets up and starts every worker daemon that is not running,
# and waits until each has subscribed to its assignments.
start_workers() {
  ((WORKERS > 0)) || return 0
  setup_workers
  local j home pid pending=() still deadline
  local -A started_pid=()
  for ((j = 1; j <= WORKERS; j++)); do
    [[ -z $(worker_pid "$j") ]] || continue
    home=$(worker_home "$j")
    printf '\n==== %s: repshardd worker run --home %s ====\n' "$(date -u +%FT%TZ)" "$home" >>"$LOGS/worker$j.log"
    # shellcheck disable=SC2086 # LOCALNET_WORKER_ARGS is a list of flags
    nohup "$BIN" worker run --home "$home" --metrics "127.0.0.1:$(worker_metrics_port "$j")" \
      --grpc "$(toml_value "$(node_home "$(worker_node "$j")")/config/app.toml" grpc address)" \
      ${LOCALNET_WORKER_ARGS:-} </dev/null >>"$LOGS/worker$j.log" 2>&1 &
    pid=$!
    printf '%d\n' "$pid" >"$PIDS/worker$j.pid"
    pending+=("$j")
    started_pid[$j]=$pid
    say "worker$j started: pid $pid, node $(node_rpc "$(worker_node "$j")"), log $LOGS/worker$j.log"
  done
  deadline=$((SECONDS + START_TIMEOUT))
  while ((${#pending[@]} > 0)); do
    still=()
    for j in "${pending[@]}"; do
      if ! alive "${started_pid[$j]}"; then
        tail -n 20 "$LOGS/worker$j.log" >&2 || true
        die "worker$j exited while starting; see $LOGS/worker$j.log"
      fi
      # The log's last start marker must be followed by the subscription line.
      if sed -n '/^==== .*worker run/h; /^==== .*worker run/!H; ${x;p}' "$LOGS/worker$j.log" | grep -q 'subscribed to assignments'; then
        :
      else
        still+=("$j")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} == 0)) && break
    ((SECONDS < deadline)) || die "worker(s) ${pending[*]/#/worker} did not subscribe within ${START_TIMEOUT}s; see $LOGS"
    sleep 0.5
  done
}

cmd_stop() {
  local n i pid pids=() names=()
  n=$(node_count)
  for ((i = 1; i <= $(worker_count); i++)); do
    pid=$(worker_pid "$i")
    if [[ -n $pid ]]; then
      pids+=("$pid")
      names+=("worker$i")
      kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDS/worker$i.pid"
  done
  for ((i = 0; i < n; i++)); do
    pid=$(node_pid "$i")
    if [[ -n $pid ]]; then
      pids+=("$pid")
      names+=("node$i")
      kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDS/node$i.pid"
  done

  if ((${#pids[@]} == 0)); then
    say "not running"
  else
    say "sent SIGTERM to ${names[*]} (pids ${pids[*]})"
    local deadline=$((SECONDS + STOP_GRACE)) alive
    while :; do
      alive=()
      for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
      done
      ((${#alive[@]} == 0)) && break
      if ((SECONDS >= deadline)); then
        say "still running after ${STOP_GRACE}s, sending SIGKILL to pids ${alive[*]}"
        for pid in "${alive[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
        sleep 0.5
        break
      fi
      sleep 0.25
    done
    say "stopped"
  fi

  if [[ ${LOCALNET_CLEAN:-0} == 1 ]]; then
    if [[ -d $DIR ]]; then
      # Only ever delete a folder that looks like a localnet.
      if [[ -d $DIR/gentxs || -d $(node_home 0) || -d $LOGS || -d $PIDS || -d $(worker_home 1) ]]; then
        rm -rf -- "$DIR"
        say "removed $DIR"
      else
        die "LOCALNET_CLEAN=1: $DIR does not look like a localnet folder; not removing it"
      fi
    fi
  elif ((n > 0)); then
    say "files kept in $DIR (LOCALNET_CLEAN=1 $0 stop removes them)"
  fi
}

cmd_status() {
  local n i pid out h vp role all_up=0
  n=$(node_count)
  if ((n == 0)); then
    say "no localnet in $DIR (start one with: $0 start [N])"
    return 1
  fi
  printf '%-7s %-10s %-45s %-24s %-8s %s\n' NAME ROLE HOME RPC PID HEIGHT
  for ((i = 0; i < n; i++)); do
    pid=$(node_pid "$i")
    out=""
    [[ -z $pid ]] || out=$(node_status_json "$i")
    h=$(json_num latest_block_height <<<"$out")
    vp=$(json_num voting_power <<<"$out")
    if [[ -z $out ]]; then
      role=validator # every init-files node has a gentx
    elif [[ -n $vp && $vp != 0 ]]; then
      role=validator
    else
      role=full-node
    fi
    if [[ -z $h ]]; then
      h=down
      all_up=1
    fi
    printf '%-7s %-10s %-45s %-24s %-8s %s\n' "node$i" "$role" "$(node_home "$i")" "$(node_rpc "$i")" "${pid:--}" "$h"
  done
  local j node
  for ((j = 1; j <= $(worker_count); j++)); do
    pid=$(worker_pid "$j")
    node=$(worker_node "$j")
    h=$(node_height "$node")
    if [[ -z $pid ]]; then
      all_up=1
      h=down
    fi
    printf '%-7s %-10s %-45s %-24s %-8s %s\n' "worker$j" worker "$(worker_home "$j")" "$(node_rpc "$node")" "${pid:--}" "${h:-?}"
  done
  return "$all_up"
}

case ${1:-} in
  start)
    shift
    cmd_start "$@"
    ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  -h | --help | help) usage 0 ;;
  *)
    printf 'usage: %s start|stop|status [N]\n\n' "$0" >&2
    usage 2 >&2
    ;;
esac

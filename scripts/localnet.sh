#!/usr/bin/env bash
# Runs a local repshard network of N validators on loopback.
#
#   scripts/localnet.sh start [N]   write N node homes (repshardd testnet init-files
#                                   --single-host) if none exist, start one
#                                   `repshardd start` per node and return once every
#                                   node is at height >= 2. Default N: $LOCALNET_NODES or 4.
#                                   `start 1` is a single-validator chain.
#   scripts/localnet.sh stop        SIGTERM every node, SIGKILL after a grace period.
#                                   Files stay (a later `start` resumes the chain)
#                                   unless LOCALNET_CLEAN=1, which removes the folder.
#   scripts/localnet.sh status      one line per node: role, home, RPC, PID, height.
#                                   Exit status 0 when every node is up, 1 otherwise.
#
# Layout ($LOCALNET_DIR, default <repo>/.localnet):
#   node<i>/repshardd/   node home, holding validator i's key "node<i>" (keyring test):
#                        repshardd tx ... --from node0 --home .localnet/node0/repshardd \
#                          --keyring-backend test --chain-id repshard-local-1 --node tcp://127.0.0.1:26657
#   logs/node<i>.log     node output        pids/node<i>.pid   node PID
# Ports of node i: P2P 26656+100i, RPC 26657+100i, REST 1317+100i, gRPC 9090+100i
# (see `repshardd testnet init-files --help`).
#
# Environment: REPSHARDD (binary, default <repo>/build/repshardd; this script never
# builds), LOCALNET_DIR, LOCALNET_NODES, LOCALNET_CHAIN_ID (repshard-local-1),
# LOCALNET_START_TIMEOUT (seconds to wait for blocks, 120), LOCALNET_STOP_GRACE
# (seconds between SIGTERM and SIGKILL, 15), LOCALNET_CLEAN (1: stop also deletes).
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
      --keyring-backend test --home "$scratch"; then
      rm -rf "$scratch"
      die "testnet init-files failed (see above)"
    fi
    rm -rf "$scratch"
  else
    n=$have
    if [[ -n $want && $want != "$have" ]]; then
      die "$DIR already holds a $have-node network; to start $want nodes, remove it first: LOCALNET_CLEAN=1 $0 stop"
    fi
  fi
  mkdir -p "$LOGS" "$PIDS"

  local running=0 started=()
  for ((i = 0; i < n; i++)); do
    if [[ -n $(node_pid "$i") ]]; then running=$((running + 1)); fi
  done
  if ((running == n)); then
    say "already running ($n node(s) in $DIR)"
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
      if [[ -z $(node_pid "$i") ]]; then
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
  cmd_status || true
}

cmd_stop() {
  local n i pid pids=() names=()
  n=$(node_count)
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
      if [[ -d $DIR/gentxs || -d $(node_home 0) || -d $LOGS || -d $PIDS ]]; then
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
  printf '%-7s %-10s %-45s %-24s %-8s %s\n' NODE ROLE HOME RPC PID HEIGHT
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

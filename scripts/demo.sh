#!/usr/bin/env bash
# repshard end-to-end demo (make demo).
#
# From a clean checkout it builds repshardd, starts a throwaway one-validator
# chain and runs a small workload through the request lifecycle and the
# chain's trust mechanisms:
#
#   - 3 requesters (alice, bob, carol) and 3 workers get keys in the test
#     keyring and are funded by the validator;
#   - the workers register: worker1 and worker3 for high-priority (they share
#     that class's shard), worker2 for compute-intensive; the genesis keeps one
#     shard per class (max_shards_per_class 1) so that the shared shard does
#     not split under the burst;
#   - about 50 requests of mixed classes and urgencies are submitted, several
#     per block; some are assigned at once, the rest deferred into per-shard
#     queues that EndBlock drains;
#   - bob's two low-priority requests wait in a shard no worker serves, and he
#     cancels them;
#   - three worker daemons (repshardd worker run) learn their assignments from
#     the node's event subscription and complete them with the sha256 of the
#     payload, and rate each requester after a completion; worker3's --exec
#     program fails carol's requests. A failure report does not end a request:
#     it goes back to its shard's queue, worker1 completes it, and worker3's
#     report is contradicted (it counts against worker3, not carol). A live
#     progress line (height, queued, assigned, completed, failed) runs
#     meanwhile;
#   - replicated execution: alice submits one request with --replicas 2; it
#     runs on worker1 and worker3, completes when both report the same hash
#     (the sha256 of the payload), and the unused tie-break shares of its fee
#     are refunded; each worker daemon runs and reports its own replica;
#   - the data plane: alice's data sits on a local web server; her request
#     carries only its URI, sha256 and size; the worker fetches and checks it,
#     runs the job and keeps the result; alice fetches the result from the
#     worker's endpoint (request fetch-result) and checks it against the hash
#     on chain, and bob is refused;
#   - alice rates the worker of one of her completed requests
#     (tx reputation rate-worker): its worker profile and top-workers;
#   - a summary: requests by status, shard queues and load, requester
#     reputation (carol: completions, no failure), worker reputation (worker3:
#     failures contradicted, a lower score than worker1), worker rewards;
#     worker1 claims its rewards;
#   - finally an x/reputation weight is changed through a governance proposal
#     (submit, vote yes, wait for PASSED) and the scores are shown again.
#
# The node and the worker daemons are always stopped and the home removed,
# whether the demo succeeds or fails. Needs only Go, bash, coreutils, sed and
# grep (no jq).
# Environment overrides:
#   DEMO_RPC_PORT (36657)  DEMO_P2P_PORT (36656)  DEMO_GRPC_PORT (39090)  DEMO_API_PORT (31317)
#   DEMO_DATA_PORT (38080: the requester's file server; the workers' result
#   servers listen on the next three ports)
#   (clear of the localnet's 26657+100i, 26656+100i, 9090+100i and 1317+100i)
#   DEMO_REQUESTS (48)     requests to the served classes, at least 3 (bob's 2 low-priority ones come on top)
#   DEMO_TIMEOUT (240)     seconds the workers may take before the demo fails
#   DEMO_NEW_WEIGHT        new weight_completion (default: current + 1)
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the demo too
cd "$(dirname "$0")/.."

BIN=$PWD/build/repshardd
CHAIN_ID=repshard-local-1
DENOM=urep
FEES=5000$DENOM
TX_FEE_AMOUNT=${FEES%"$DENOM"}
GAS=400000
VOTING_PERIOD=15s
EXPEDITED_VOTING_PERIOD=10s
RPC_PORT=${DEMO_RPC_PORT:-36657}
P2P_PORT=${DEMO_P2P_PORT:-36656}
GRPC_PORT=${DEMO_GRPC_PORT:-39090}
API_PORT=${DEMO_API_PORT:-31317}
DATA_PORT=${DEMO_DATA_PORT:-38080}
NODE=tcp://127.0.0.1:$RPC_PORT
REQUESTS=${DEMO_REQUESTS:-48}
LOOP_TIMEOUT=${DEMO_TIMEOUT:-240}
case $REQUESTS$LOOP_TIMEOUT in *[!0-9]*) echo "DEMO_REQUESTS and DEMO_TIMEOUT must be integers" >&2 && exit 2 ;; esac
# The third request is carol's first high-priority one: worker3 must get some.
[ "$REQUESTS" -ge 3 ] || { echo "DEMO_REQUESTS must be at least 3" >&2 && exit 2; }

REQUESTERS=(alice bob carol)
WORKERS=(worker1 worker2 worker3)
# Each worker's classes and capacity (compute units it processes at once).
# worker1 and worker3 register for high-priority only, so they share its
# shard; worker2 serves compute-intensive. worker3 has less capacity: within a
# score tier a request goes to the worker whose free capacity fits it best, so
# worker3 gets high-priority requests from the start.
WORKER_CLASSES=(high-priority compute-intensive high-priority)
WORKER_CAPACITY=(24 24 16)
# 1 GiB of storage each: a request goes only to a worker whose storage covers
# its data bytes, and the demo's inline payloads are under 100 bytes (the
# chain takes at most max_inline_payload_bytes, 4096).
WORKER_STORAGE=1073741824
FAILING=carol          # worker3's executor fails this requester's requests...
PICKY=worker3          # ...and this is worker3
HONEST=worker1         # the other worker of worker3's shard: it completes them
FUND=100000000$DENOM   # 100 REP for each requester and worker

DEMO_HOME=$(mktemp -d "${TMPDIR:-/tmp}/repshard-demo.XXXXXX")
LOG=$DEMO_HOME/node.log
NODE_PID=
WORKER_PIDS=()
FILESERVER_PID=

# --- helpers ----------------------------------------------------------------

section() { printf '\n==== %s ====\n' "$*"; }
info() { printf '  %s\n' "$*"; }
warn() { printf '  WARNING: %s\n' "$*" >&2; }
die() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$? pid
  for pid in "${WORKER_PIDS[@]}" $FILESERVER_PID; do kill "$pid" 2>/dev/null || true; done
  for pid in "${WORKER_PIDS[@]}" $FILESERVER_PID; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$NODE_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$LOG" ]; then
    printf '\n---- last 40 lines of the node log (%s) ----\n' "$LOG" >&2
    tail -n 40 "$LOG" >&2 || true
  fi
  rm -rf "$DEMO_HOME"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# rsd runs repshardd against the demo home.
rsd() { "$BIN" --home "$DEMO_HOME" "$@"; }
# q runs a query against the demo node.
q() { rsd query "$@" --node "$NODE"; }

# compact: the JSON on stdin on one line, without whitespace around its
# punctuation (queries print indented JSON), so grep and sed can pick fields.
compact() { tr -d '\n' | sed -E 's/[[:space:]]*([][{}:,])[[:space:]]*/\1/g'; }
# json_str FIELD: the first "FIELD":"value" string in the JSON on stdin ("" if none).
json_str() { compact | { grep -oE "\"$1\":\"[^\"]*\"" || true; } | sed -n '1s/.*:"\(.*\)"$/\1/p'; }
# json_num FIELD: the first "FIELD":123 or "FIELD":"123" number on stdin ("" if
# none). Zero values are left out of the CLI's JSON: callers use ${x:-0}.
json_num() { compact | { grep -oE "\"$1\":\"?[0-9]+" || true; } | sed -n '1s/.*[:"]\([0-9]*\)$/\1/p'; }
# json_items: the objects of the first list in the JSON on stdin, one per line
# (the requests of requests-by-*, the shards of shards). Each object starts
# with "id", which no nested object has.
json_items() { compact | sed 's/},{"id":/}\n{"id":/g'; }
# event_attr TYPE KEY: the value of attribute KEY of the first event TYPE in
# the tx result JSON on stdin, without its JSON quotes ("" if none).
event_attr() {
  compact | sed 's/{"type":/\n&/g' | { grep "^{\"type\":\"$1\"" || true; } | sed -n 1p |
    { grep -oE "\"key\":\"$2\",\"value\":\"(\\\\\"|[^\"])*\"" || true; } | sed -n '1p' |
    sed -E 's/^"key":"[^"]*","value":"//; s/"$//; s/\\"//g'
}

# tx ARGS...: signs with the validator key, broadcasts, waits until the tx is
# in a block and checks that it succeeded. Prints the included tx as JSON.
tx() {
  local out hash code result
  out=$(rsd tx "$@" --from val --keyring-backend test --chain-id "$CHAIN_ID" \
    --gas "$GAS" --fees "$FEES" --node "$NODE" -y -o json) || die "repshardd tx $1 $2 failed (see above)"
  hash=$(json_str txhash <<<"$out")
  code=$(json_num code <<<"$out")
  [ -n "$hash" ] || die "no tx hash in the broadcast result: $out"
  [ "${code:-0}" = 0 ] || die "tx rejected by CheckTx (code $code): $out"
  wait_tx "$hash"
}

# wait_tx HASH: polls `q tx HASH` until the tx is in a block (30 s at most),
# dies if it failed, prints the included tx as JSON.
wait_tx() {
  local result code
  for _ in $(seq 1 60); do
    if result=$(q tx "$1" -o json 2>/dev/null); then
      code=$(json_num code <<<"$result")
      [ "${code:-0}" = 0 ] || die "tx $1 failed (code $code): $(json_str raw_log <<<"$result")"
      info "tx $1 included at height $(json_num height <<<"$result")" >&2
      printf '%s\n' "$result"
      return 0
    fi
    sleep 0.5
  done
  die "tx $1 was not included within 30 s"
}

# Accounts of the workload: key name -> address (NAME_OF: address -> key
# name), account number, next sequence.
declare -A ADDR=() NAME_OF=() ACCNUM=() SEQ=()

# load_account NAME: reads NAME's account number and sequence from the chain.
load_account() {
  local json
  json=$(q auth account "${ADDR[$1]}" -o json) || die "no account for $1 (${ADDR[$1]})"
  ACCNUM[$1]=$(json_num account_number <<<"$json")
  SEQ[$1]=$(json_num sequence <<<"$json")
  ACCNUM[$1]=${ACCNUM[$1]:-0} SEQ[$1]=${SEQ[$1]:-0}
}

# send NAME ARGS...: signs `repshardd tx ARGS...` as NAME with the account
# number and sequence kept here (--offline: the CLI does not ask the chain,
# whose committed sequence lags behind the txs already in the mempool),
# broadcasts it in sync mode (CheckTx only, no waiting for a block), checks
# CheckTx accepted it, and sets TX_HASH. Several txs of one account thus go
# into the same block. Run it in the current shell (not in $(...)), or the
# sequence increment is lost.
TX_HASH=
send() {
  local name=$1 out code
  shift
  out=$(rsd tx "$@" --from "$name" --keyring-backend test --chain-id "$CHAIN_ID" \
    --offline --account-number "${ACCNUM[$name]}" --sequence "${SEQ[$name]}" \
    --gas "$GAS" --fees "$FEES" --node "$NODE" --broadcast-mode sync -y -o json) ||
    die "repshardd tx $1 $2 from $name failed (see above)"
  TX_HASH=$(json_str txhash <<<"$out")
  code=$(json_num code <<<"$out")
  [ -n "$TX_HASH" ] || die "no tx hash in the broadcast result: $out"
  [ "${code:-0}" = 0 ] || die "tx $1 $2 from $name rejected by CheckTx (code $code): $(json_str raw_log <<<"$out")"
  SEQ[$name]=$((SEQ[$name] + 1))
}

height() { rsd status --node "$NODE" 2>/dev/null | json_num latest_block_height; }

# wait_next_block: polls the node until the height grows (15 s at most).
wait_next_block() {
  local h0 h
  h0=$(height || true)
  for _ in $(seq 1 75); do
    h=$(height || true)
    [ "${h:-0}" -gt "${h0:-0}" ] && return 0
    sleep 0.2
  done
  die "no new block within 15 s (height ${h:-?})"
}

# wait_quiet NAME...: waits until the account sequences of NAME... have not
# changed for 3 blocks (60 blocks at most), so that the worker daemons signing
# with those keys have nothing in flight.
wait_quiet() {
  local name sq last= same=0
  for _ in $(seq 1 60); do
    sq=
    for name in "$@"; do sq+="$(q auth account "${ADDR[$name]}" -o json | num sequence) "; done
    if [ "$sq" = "$last" ]; then same=$((same + 1)); else same=0; fi
    [ "$same" -ge 3 ] && return 0
    last=$sq
    wait_next_block
  done
  die "$* kept sending txs for 60 blocks"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ppm_dec N: 640000 -> 0.6400 ("" counts as 0).
ppm_dec() {
  local v=${1:-0}
  printf '%d.%04d' $((v / 1000000)) $(((v % 1000000) / 100))
}
# num FIELD: like json_num, but 0 when the field is left out.
num() {
  local v
  v=$(json_num "$1")
  echo "${v:-0}"
}
# coin_amount FIELD: the amount of the coin object "FIELD":{...} on stdin (0 if none).
coin_amount() {
  local v
  v=$(compact | { grep -oE "\"$1\":\{[^}]*\}" || true; } | sed -n '1p' | json_num amount)
  echo "${v:-0}"
}

# status_count STATUS: how many requests have STATUS (queued, assigned, ...).
status_count() {
  q deferral requests-by-status "$1" -o json --page-limit 1 --page-count-total | num total
}

# balance ADDRESS: its urep balance.
balance() { q bank balance "$1" "$DENOM" -o json | coin_amount balance; }

# progress TEXT: a live status line (rewritten in place on a terminal; on a
# pipe, printed only when it changes).
LAST_PROGRESS=
progress() {
  if [ -t 1 ]; then
    printf '\r\033[K  %s' "$*"
  elif [ "$*" != "$LAST_PROGRESS" ]; then
    printf '  %s\n' "$*"
  fi
  LAST_PROGRESS=$*
}
progress_done() {
  if [ -t 1 ]; then printf '\n'; fi
  LAST_PROGRESS=
}

# --- 1. build -----------------------------------------------------------------

section "Building repshardd (make build)"
make --no-print-directory build
go build -o build/demo-fileserver ./scripts/demo-fileserver
info "$("$BIN" version --long 2>/dev/null | grep -E '^(name|version|commit):' | tr '\n' ' ')"

# --- 2. genesis ---------------------------------------------------------------

section "Initialising a one-validator chain in $DEMO_HOME"
rsd init demo-node --chain-id "$CHAIN_ID" >/dev/null 2>&1
rsd keys add val --keyring-backend test >/dev/null 2>&1
VAL_ADDR=$(rsd keys show val -a --keyring-backend test)
info "validator account: $VAL_ADDR"
rsd genesis add-genesis-account val "1000000000000$DENOM" --keyring-backend test
rsd genesis gentx val "100000000$DENOM" --chain-id "$CHAIN_ID" --keyring-backend test >/dev/null 2>&1
rsd genesis collect-gentxs >/dev/null 2>&1

GENESIS=$DEMO_HOME/config/genesis.json
sed -i -E \
  -e "s/\"voting_period\": *\"[^\"]*\"/\"voting_period\": \"$VOTING_PERIOD\"/" \
  -e "s/\"expedited_voting_period\": *\"[^\"]*\"/\"expedited_voting_period\": \"$EXPEDITED_VOTING_PERIOD\"/" \
  "$GENESIS"
grep -q "\"voting_period\": *\"$VOTING_PERIOD\"" "$GENESIS" || die "could not shorten voting_period in $GENESIS"
grep -q "\"expedited_voting_period\": *\"$EXPEDITED_VOTING_PERIOD\"" "$GENESIS" ||
  die "could not shorten expedited_voting_period in $GENESIS"
info "gov voting_period=$VOTING_PERIOD expedited_voting_period=$EXPEDITED_VOTING_PERIOD"
# One shard per class: worker1 and worker3 share the high-priority shard, and a
# split under the burst would move one of them to a new shard. A request that
# a worker reported failed goes back to the queue of its own shard, so after a
# split worker3's reports would wait there for a worker that is no longer in
# it (until the queue time to live, 500 blocks).
sed -i -E 's/"max_shards_per_class": *"?[0-9]+"?/"max_shards_per_class": 1/' "$GENESIS"
grep -q '"max_shards_per_class": 1' "$GENESIS" || die "could not set max_shards_per_class in $GENESIS"
info "shard max_shards_per_class=1 (no split of the shard worker1 and worker3 share)"
rsd genesis validate >/dev/null

sed -i -E "s/^minimum-gas-prices = .*/minimum-gas-prices = \"0.001$DENOM\"/" "$DEMO_HOME/config/app.toml"
info "app.toml minimum-gas-prices = 0.001$DENOM"
sed -i -E 's/^timeout_commit = .*/timeout_commit = "1s"/' "$DEMO_HOME/config/config.toml"
info "config.toml timeout_commit = 1s"

# --- 3. start -----------------------------------------------------------------

section "Starting the node (log: $LOG)"
for port in "$RPC_PORT" "$P2P_PORT" "$GRPC_PORT" "$API_PORT" "$DATA_PORT" $((DATA_PORT + 1)) $((DATA_PORT + 2)) $((DATA_PORT + 3)); do
  if port_in_use "$port"; then
    die "port $port is in use; set DEMO_RPC_PORT/DEMO_P2P_PORT/DEMO_GRPC_PORT/DEMO_API_PORT/DEMO_DATA_PORT"
  fi
done
# Run the binary itself (not the rsd function, which would fork a subshell) so
# that $! is the node's PID and cleanup can stop it.
"$BIN" start --home "$DEMO_HOME" \
  --rpc.laddr "$NODE" \
  --p2p.laddr "tcp://127.0.0.1:$P2P_PORT" \
  --grpc.address "127.0.0.1:$GRPC_PORT" \
  --api.address "tcp://127.0.0.1:$API_PORT" \
  --rpc.pprof_laddr "" \
  --log_no_color \
  >"$LOG" 2>&1 &
NODE_PID=$!
info "pid $NODE_PID, RPC $NODE, REST http://127.0.0.1:$API_PORT, gRPC 127.0.0.1:$GRPC_PORT"

for _ in $(seq 1 60); do
  kill -0 "$NODE_PID" 2>/dev/null || die "the node exited during start-up"
  h=$(height || true)
  [ "${h:-0}" -ge 3 ] && break
  sleep 1
done
[ "${h:-0}" -ge 3 ] || die "the chain did not reach height 3 within 60 s"
info "chain is producing blocks (height $h)"

# --- 4. module params ---------------------------------------------------------

for module in reputation shard deferral rewards; do
  section "x/$module params (repshardd q $module params)"
  q "$module" params
done

# --- 5. accounts --------------------------------------------------------------

section "Keys and funds for 3 requesters and 3 workers"
for name in "${REQUESTERS[@]}" "${WORKERS[@]}"; do
  rsd keys add "$name" --keyring-backend test >/dev/null 2>&1
  ADDR[$name]=$(rsd keys show "$name" -a --keyring-backend test)
  NAME_OF[${ADDR[$name]}]=$name
done
ADDRS=()
for name in "${REQUESTERS[@]}" "${WORKERS[@]}"; do ADDRS+=("${ADDR[$name]}"); done
info "the validator sends $FUND to each (one multi-send tx)"
tx bank multi-send val "${ADDRS[@]}" "$FUND" >/dev/null
for name in "${REQUESTERS[@]}" "${WORKERS[@]}"; do
  load_account "$name"
  printf '  %-8s %s  %12s %s  (account number %s)\n' "$name" "${ADDR[$name]}" "$(balance "${ADDR[$name]}")" "$DENOM" "${ACCNUM[$name]}"
done

# --- 6. workers ---------------------------------------------------------------

section "Workers register (repshardd tx shard register-worker)"
BOND=$(q shard params -o json | coin_amount min_worker_bond)
[ "$BOND" != 0 ] || die "could not read the x/shard min_worker_bond"
BOND=$BOND$DENOM
# A worker joins the ACTIVE shard of its classes with the least capacity;
# with one shard per class, worker1 and worker3 (high-priority only) share the
# high-priority shard and worker2 takes the compute-intensive one.
info "bond $BOND each (min_worker_bond), storage $WORKER_STORAGE bytes each"
REG_HASHES=()
declare -A ENDPOINT=()
for i in "${!WORKERS[@]}"; do
  w=${WORKERS[$i]}
  # Its daemon serves its results there (worker run --listen, below).
  ENDPOINT[$w]=http://127.0.0.1:$((DATA_PORT + 1 + i))
  info "$w: register-worker ${WORKER_CLASSES[$i]} ${WORKER_CAPACITY[$i]} $BOND --storage-bytes $WORKER_STORAGE --endpoint ${ENDPOINT[$w]}"
  send "$w" shard register-worker "${WORKER_CLASSES[$i]}" "${WORKER_CAPACITY[$i]}" "$BOND" --storage-bytes "$WORKER_STORAGE" \
    --endpoint "${ENDPOINT[$w]}"
  REG_HASHES+=("$TX_HASH")
done
declare -A WORKER_SHARD=()
for i in "${!WORKERS[@]}"; do
  w=${WORKERS[$i]}
  res=$(wait_tx "${REG_HASHES[$i]}")
  WORKER_SHARD[$w]=$(event_attr repshard.shard.v1.EventWorkerRegistered shard_id <<<"$res")
  info "$w joined shard ${WORKER_SHARD[$w]} (${WORKER_CLASSES[$i]}, ${WORKER_CAPACITY[$i]} units)"
done
[ "${WORKER_SHARD[$HONEST]}" = "${WORKER_SHARD[$PICKY]}" ] ||
  die "$HONEST joined shard ${WORKER_SHARD[$HONEST]} and $PICKY shard ${WORKER_SHARD[$PICKY]}; expected one shared shard"
[ "${WORKER_SHARD[worker2]}" != "${WORKER_SHARD[$HONEST]}" ] ||
  die "worker2 joined shard ${WORKER_SHARD[worker2]} too; expected two shards with capacity"

section "Worker daemons (repshardd worker run --from <worker> --exec <executor>)"
# Every worker runs the same deterministic executor: an echo job whose result
# is its input, so the result hash on chain is the sha256 of the payload;
# worker3 runs it through a wrapper that fails carol's requests. Each daemon
# keeps its results and serves them to their requesters at its endpoint
# (--listen); --fetch-allow-private lets it fetch payloads from the demo's
# file server on loopback (refused by default: docs/dataplane.md).
EXECUTOR=$DEMO_HOME/executor.sh
PICKY_EXECUTOR=$DEMO_HOME/picky-executor.sh
cat >"$EXECUTOR" <<'EOF'
#!/bin/sh
# The demo's executor: the payload on stdin is the result (written to
# $REPSHARD_RESULT_FILE, which the daemon keeps and serves); its sha256 on
# stdout is the result hash reported.
cat >"$REPSHARD_RESULT_FILE"
sha256sum <"$REPSHARD_RESULT_FILE" | cut -c1-64
EOF
cat >"$PICKY_EXECUTOR" <<EOF
#!/bin/sh
# $PICKY's executor: $FAILING's requests fail (non-zero exit, the reason on
# stderr); the others run through executor.sh.
if [ "\$REPSHARD_REQUESTER" = "${ADDR[$FAILING]}" ]; then
  echo "demo: $PICKY rejects $FAILING's input" >&2
  exit 1
fi
exec "$EXECUTOR"
EOF
chmod +x "$EXECUTOR" "$PICKY_EXECUTOR"
info "executor.sh: the payload is the result, its sha256 the result hash; picky-executor.sh ($PICKY): exits 1 for $FAILING's requests"
for w in "${WORKERS[@]}"; do
  exe=$EXECUTOR
  [ "$w" != "$PICKY" ] || exe=$PICKY_EXECUTOR
  "$BIN" worker run --home "$DEMO_HOME" --from "$w" --keyring-backend test --chain-id "$CHAIN_ID" \
    --node "$NODE" --exec "$exe" --listen "${ENDPOINT[$w]#http://}" --fetch-allow-private >"$DEMO_HOME/$w.log" 2>&1 &
  WORKER_PIDS+=("$!")
  info "$w: pid $!, --exec ${exe##*/}, results served at ${ENDPOINT[$w]}, log $DEMO_HOME/$w.log"
done
for w in "${WORKERS[@]}"; do
  for _ in $(seq 1 50); do
    grep -q 'subscribed to assignments' "$DEMO_HOME/$w.log" && break
    sleep 0.2
  done
  grep -q 'subscribed to assignments' "$DEMO_HOME/$w.log" || die "$w's daemon did not subscribe: $(tail -n 5 "$DEMO_HOME/$w.log")"
done
info "the ${#WORKERS[@]} daemons subscribed to their assignments"

# --- 7. workload ----------------------------------------------------------------

# Each shard has its own price per compute unit: it starts at x/shard's
# price_floor and follows the shard's load up to price_ceiling. The max fees
# below cover the ceiling at critical urgency (2.5x): the fee actually
# escrowed is the shard's price now ('q deferral quote' shows it).
PRICE=$(q shard params -o json | coin_amount price_floor)
CEIL=$(q shard params -o json | coin_amount price_ceiling)
[ "$PRICE" != 0 ] && [ "$CEIL" != 0 ] || die "could not read x/shard's price_floor and price_ceiling"
MAXU=$((CEIL * 3))
TIMEOUT_BLOCKS=$(q deferral params -o json | num assignment_timeout_blocks)

# Txs broadcast but not yet confirmed: tx hash -> kind (submit, complete,
# fail, cancel). Blocks up to CONFIRMED_HEIGHT have been searched for them.
declare -A PENDING=()
CONFIRMED_HEIGHT=$(height)
SUBMITTED=0 N_NOW=0 N_DEFERRED=0 N_COMPLETED=0 N_FAILED=0 N_CANCELLED=0 N_MISSED=0
declare -A DEFER_REASONS=() REPORTED=()
EXAMPLE_COMPLETE="" EXAMPLE_FAIL="" EXAMPLE_NOW="" EXAMPLE_DEFERRED=""

# tally_submit TX_JSON [quiet]: counts an included submit-request as assigned
# at once or deferred (with its reason), and keeps the first of each as an
# example unless quiet.
tally_submit() {
  set -- "$1" "${2:-}"
  local reason id worker
  reason=$(event_attr repshard.deferral.v1.EventRequestDeferred reason <<<"$1")
  id=$(event_attr repshard.deferral.v1.EventRequestSubmitted request_id <<<"$1")
  if [ -n "$reason" ]; then
    N_DEFERRED=$((N_DEFERRED + 1))
    [ -n "$EXAMPLE_DEFERRED$2" ] || EXAMPLE_DEFERRED="request $id: deferred ($reason) into shard $(event_attr \
      repshard.deferral.v1.EventRequestDeferred shard_id <<<"$1")'s queue, due by height $(event_attr \
      repshard.deferral.v1.EventRequestDeferred due_height <<<"$1")"
    reason=${reason#DEFER_REASON_}
    DEFER_REASONS[$reason]=$((${DEFER_REASONS[$reason]:-0} + 1))
  else
    N_NOW=$((N_NOW + 1))
    if [ -z "$EXAMPLE_NOW$2" ]; then
      worker=$(event_attr repshard.deferral.v1.EventRequestAssigned worker <<<"$1")
      EXAMPLE_NOW="request $id: assigned at once to ${NAME_OF[$worker]:-$worker}, deadline height $(event_attr \
        repshard.deferral.v1.EventRequestAssigned deadline_height <<<"$1")"
    fi
  fi
}

# confirm_pending: finds the pending txs in the blocks since the last call —
# one `q txs --query "tx.height > A AND tx.height <= B"` lists every tx of
# those blocks with its result — checks and counts them; the others stay
# pending. The newest block is left for the next call, as it may not be
# indexed yet. A worker's report that lost the race with its deadline is only
# a warning: the request goes back to the queue.
confirm_pending() {
  local h top page total txs line hash kind code
  [ "${#PENDING[@]}" -gt 0 ] || return 0
  h=$(height || true)
  [ -n "$h" ] || return 0
  top=$((h - 1))
  [ "$top" -gt "$CONFIRMED_HEIGHT" ] || return 0
  page=1
  while :; do
    txs=$(q txs --query "tx.height > $CONFIRMED_HEIGHT AND tx.height <= $top" --page "$page" --limit 100 -o json |
      compact | sed 's/{"height":"/\n&/g')
    total=$(num total_count <<<"$txs")
    while IFS= read -r line; do
      hash=$(json_str txhash <<<"$line")
      if [ -z "$hash" ] || [ -z "${PENDING[$hash]:-}" ]; then continue; fi
      kind=${PENDING[$hash]}
      unset 'PENDING[$hash]'
      code=$(num code <<<"$line")
      if [ "$code" != 0 ]; then
        case $kind in
        complete | fail)
          N_MISSED=$((N_MISSED + 1))
          warn "$kind tx $hash failed (code $code): $(json_str raw_log <<<"$line")"
          continue
          ;;
        *) die "$kind tx $hash failed (code $code): $(json_str raw_log <<<"$line")" ;;
        esac
      fi
      case $kind in
      submit) tally_submit "$line" ;;
      complete) N_COMPLETED=$((N_COMPLETED + 1)) ;;
      fail) N_FAILED=$((N_FAILED + 1)) ;;
      cancel) N_CANCELLED=$((N_CANCELLED + 1)) ;;
      esac
    done <<<"$txs"
    [ $((page * 100)) -lt "$total" ] || break
    page=$((page + 1))
  done
  CONFIRMED_HEIGHT=$top
}

# print_shards: one line per shard from q shard shards, with the length of its
# queue from q deferral shard-queue.
print_shards() {
  local shards line id
  shards=$(q shard shards -o json | json_items)
  printf '  %-5s %-30s %7s %8s %9s %6s %9s %6s\n' shard class workers capacity in-flight queued load_ppm queue
  while IFS= read -r line; do
    id=$(json_num id <<<"$line")
    [ -n "$id" ] || continue
    printf '  %-5s %-30s %7s %8s %9s %6s %9s %6s\n' "$id" "$(json_str class <<<"$line")" \
      "$(num worker_count <<<"$line")" "$(num capacity_units <<<"$line")" "$(num in_flight_units <<<"$line")" \
      "$(num queued_units <<<"$line")" "$(num load_ppm <<<"$line")" \
      "$(q deferral shard-queue "$id" -o json --page-limit 1 --page-count-total | num total)"
  done <<<"$shards"
  info "(units; load_ppm = (in-flight + queued units) / capacity, and a shard without capacity counts"
  info " as fully loaded; queue = requests waiting in the shard's queue)"
}

TOTAL=$((REQUESTS + 2))
section "Submitting $TOTAL requests from ${REQUESTERS[*]} (repshardd tx deferral submit-request)"
info "price per compute unit: $PRICE$DENOM at the floor, up to $CEIL$DENOM on a congested shard, times the"
info "urgency multiplier (low 0.8x .. critical 2.5x); max fees cover the worst case, the fee taken is the"
info "shard's price now. Classes high-priority and compute-intensive (served by the"
info "workers) and 2 low-priority ones from bob (no worker serves that class); urgencies low..critical."
info "Each requester's txs are signed with explicit sequences and broadcast without waiting, so"
info "several land in each block; the worker daemons report results as assignments come."

# Bob's low-priority requests go to a shard without workers: they stay queued.
LOW_HASHES=()
for j in 1 2; do
  send bob deferral submit-request low-priority 5 "$((5 * MAXU))$DENOM" --urgency low --payload "bob: archive log batch $j"
  LOW_HASHES+=("$TX_HASH")
  SUBMITTED=$((SUBMITTED + 1))
done

CLASSES=(high-priority compute-intensive)
URGENCIES=(low normal high critical)
for ((i = 0; i < REQUESTS; i++)); do
  r=$((i % 3)) k=$((i / 3))
  requester=${REQUESTERS[$r]}
  class=${CLASSES[$(((k + r) % 2))]}
  urgency=${URGENCIES[$(((k / 2 + r) % 4))]}
  units=$((4 + (i * 7) % 13))
  send "$requester" deferral submit-request "$class" "$units" "$((units * MAXU))$DENOM" \
    --urgency "$urgency" --payload "$requester: job $((k + 1)), $class, sum the first $((units * 1000)) integers"
  PENDING[$TX_HASH]=submit
  SUBMITTED=$((SUBMITTED + 1))
  if [ -t 1 ] || ((SUBMITTED % 10 == 0 || SUBMITTED == TOTAL)); then
    progress "submitted $SUBMITTED/$TOTAL (last: $requester, $class, $units units, urgency $urgency)"
  fi
done
progress_done

section "Shards right after the submissions (q shard shards)"
print_shards

section "Bob's low-priority requests wait in a shard without workers; bob cancels them"
LOW_IDS=()
for hash in "${LOW_HASHES[@]}"; do
  res=$(wait_tx "$hash")
  tally_submit "$res" quiet
  LOW_IDS+=("$(event_attr repshard.deferral.v1.EventRequestSubmitted request_id <<<"$res")")
  LOW_SHARD=$(event_attr repshard.deferral.v1.EventRequestSubmitted shard_id <<<"$res")
  info "request ${LOW_IDS[-1]}: shard $LOW_SHARD, deferred: $(event_attr repshard.deferral.v1.EventRequestDeferred reason <<<"$res")"
done
info "(shard $LOW_SHARD has no worker: without capacity it counts as fully loaded)"
info "repshardd q deferral shard-queue $LOW_SHARD"
q deferral shard-queue "$LOW_SHARD" | sed 's/^/    /'
for id in "${LOW_IDS[@]}"; do
  info "bob: tx deferral cancel-request $id"
  send bob deferral cancel-request "$id"
  PENDING[$TX_HASH]=cancel
done
info "(a request that only sat in the queue pays the queue exit fee, queue_exit_fee_ppm of its fee, to"
info " the community pool when its requester takes it out: queueing and leaving is not free, since"
info " queued requests raise their shard's load and price; the rest of the fee is refunded)"

section "Worker daemons at work until nothing is queued or assigned"
info "Each daemon learns its assignments from the node's websocket events (polling when the"
info "subscription drops), runs its executor and reports several results per tx; assignments"
info "must be reported within $TIMEOUT_BLOCKS blocks. Logs: $DEMO_HOME/worker{1,2,3}.log"
START=$SECONDS
while :; do
  confirm_pending
  QUEUED=$(status_count queued)
  ASSIGNED=$(status_count assigned)
  N_COMPLETED=$(status_count completed)
  N_FAILED=$(status_count failed)
  progress "height $(height) | queued $QUEUED | assigned $ASSIGNED | completed $N_COMPLETED | failed $N_FAILED | cancelled $N_CANCELLED"
  if [ "$QUEUED" = 0 ] && [ "$ASSIGNED" = 0 ] && [ "${#PENDING[@]}" = 0 ]; then
    break
  fi
  for pid in "${WORKER_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "a worker daemon (pid $pid) exited; see $DEMO_HOME/worker*.log"
  done
  if ((SECONDS - START > LOOP_TIMEOUT)); then
    progress_done
    die "the workers timed out after $LOOP_TIMEOUT s: $QUEUED queued, $ASSIGNED assigned, ${#PENDING[@]} txs not confirmed (DEMO_TIMEOUT raises the limit)"
  fi
  sleep 1
done
progress_done
info "done in $((SECONDS - START)) s"
[ -z "$EXAMPLE_NOW" ] || info "e.g. $EXAMPLE_NOW"
[ -z "$EXAMPLE_DEFERRED" ] || info "e.g. $EXAMPLE_DEFERRED"
for w in "${WORKERS[@]}"; do
  line=$(grep -m1 ': completed result=' "$DEMO_HOME/$w.log" || true)
  [ -z "$line" ] || info "e.g. $w.log: ${line#* }"
  line=$(grep -m1 ': failed (' "$DEMO_HOME/$w.log" || true)
  [ -z "$line" ] || info "e.g. $w.log: ${line#* }"
done

# --- 8. trust: a contradicted failure, a replicated request, a rating ------------

# obj_list FIELD: the objects of the list "FIELD":[...] on stdin, one per line
# (lists of flat objects: failure_reports, replica_runs); string_list FIELD:
# the strings of the list "FIELD":["a","b"], one per line.
obj_list() {
  compact | { grep -oE "\"$1\":\[[^]]*\]" || true; } | sed -n 1p |
    sed -E "s/^\"$1\":\[//; s/\]$//; s/\},\{/}\n{/g"
}
string_list() { obj_list "$1" | tr ',' '\n' | sed -E 's/^"//; s/"$//' | { grep -v '^$' || true; }; }
# raw_strs FIELD: every "FIELD": "value" string of the JSON on stdin, one per
# line, read without compact (which would also squeeze the spaces around
# punctuation inside the strings).
raw_strs() { { grep -oE "\"$1\": *\"[^\"]*\"" || true; } | sed -E "s/^\"$1\": *\"//; s/\"$//"; }
# b64_hex: the base64 bytes on stdin (how the JSON shows a hash) as hex.
b64_hex() { base64 -d 2>/dev/null | od -An -v -tx1 | tr -d ' \n'; }
# short_hex HEX: 10288a79…7406eb.
short_hex() { printf '%s…%s' "${1:0:8}" "${1: -6}"; }
# enum_name VALUE: REQUEST_STATUS_COMPLETED -> COMPLETED, REPLICA_STATUS_REPORTED -> REPORTED.
enum_name() { sed -E 's/^(REQUEST|REPLICA)_STATUS_//' <<<"$1"; }
# who ADDRESS: its key name in the demo, else the address.
who() { echo "${NAME_OF[$1]:-$1}"; }
# coin_text_amount: the amount of a coin printed as {denom:urep,amount:123}
# (an event attribute, see event_attr), 0 if none.
coin_text_amount() {
  local v
  v=$({ grep -oE 'amount:[0-9]+' || true; } | sed -n '1s/amount://p')
  echo "${v:-0}"
}

section "A failure report, contradicted (q deferral request <id>)"
N_REPORTS=$(grep -c ': failed (' "$DEMO_HOME/$PICKY.log" || true)
[ "${N_REPORTS:-0}" -gt 0 ] ||
  die "$PICKY reported no failure: none of $FAILING's requests went to it (see $DEMO_HOME/$PICKY.log)"
info "$PICKY's executor failed $N_REPORTS of $FAILING's requests. A failure report is a claim, not a verdict:"
info "the request went back to shard ${WORKER_SHARD[$PICKY]}'s queue, first in line, for a worker that had not"
info "tried it, and ends FAILED only when failure_confirmations ($(q deferral params -o json | num failure_confirmations))"
info "distinct workers report failure. $HONEST completed each of them instead: that contradicts"
info "$PICKY's report, which counts against $PICKY's worker reputation (and earns it nothing), and"
info "$FAILING's profile counts a completion."
line=$(grep -m1 ': failed (' "$DEMO_HOME/$PICKY.log")
FAILED_ID=$(sed -nE 's/.*request ([0-9]+) attempt [0-9]+: failed.*/\1/p' <<<"$line")
[ -n "$FAILED_ID" ] || die "no request id in $PICKY's log line: $line"
rj=$(q deferral request "$FAILED_ID" -o json)
st=$(enum_name "$(json_str status <<<"$rj")")
info "repshardd q deferral request $FAILED_ID -o json (the fields of interest):"
printf '    %-17s %s\n' requester "$(who "$(json_str requester <<<"$rj")")" status "$st" \
  worker "$(who "$(json_str worker <<<"$rj")")" attempts "$(num attempts <<<"$rj")" \
  result_hash "$(short_hex "$(json_str result_hash <<<"$rj" | b64_hex)")"
n=0
while IFS= read -r report; do
  [ -n "$report" ] || continue
  n=$((n + 1))
  printf '    %-17s %s at height %s: "%s"\n' "failure_reports" "$(who "$(json_str worker <<<"$report")")" \
    "$(num height <<<"$report")" "$(raw_strs reason <<<"$rj" | sed -n "${n}p")"
done < <(obj_list failure_reports <<<"$rj")
printf '    %-17s %s\n' excluded_workers "$(string_list excluded_workers <<<"$rj" | while read -r a; do who "$a"; done | tr '\n' ' ')"
[ "$st" = COMPLETED ] || die "request $FAILED_ID is $st, not COMPLETED"
[ "$(json_str worker <<<"$rj")" = "${ADDR[$HONEST]}" ] || die "request $FAILED_ID was not completed by $HONEST"

section "Replicated execution: alice submits a request with --replicas 2"
TIEBREAK=$(q deferral params -o json | num max_tiebreak_replicas)
REPLICAS=2 R_UNITS=6
R_MAX_FEE=$((R_UNITS * MAXU * (REPLICAS + TIEBREAK)))
R_PAYLOAD="alice: checksum the quarterly ledger"
info "The request runs on $REPLICAS distinct workers of its shard and completes when a majority (here both)"
info "report the same result hash, so the executor must be deterministic: every daemon here prints"
info "the sha256 of the payload. The fee escrows one share (units × shard price × urgency) per possible"
info "replica: $REPLICAS + max_tiebreak_replicas $TIEBREAK = $((REPLICAS + TIEBREAK)) shares; the unused shares are refunded."
info "alice: tx deferral submit-request high-priority $R_UNITS $R_MAX_FEE$DENOM --replicas $REPLICAS --urgency high --payload \"$R_PAYLOAD\""
# The daemons of the shard must have nothing in flight (see below).
wait_quiet "$HONEST" "$PICKY"
info "alice: q deferral quote high-priority $R_UNITS --urgency high --replicas $REPLICAS --requester alice"
quote=$(q deferral quote high-priority "$R_UNITS" --urgency high --replicas "$REPLICAS" --requester "${ADDR[alice]}" -o json | compact)
printf '    fee %s = (compute %s [%s units x %s/unit x urgency %s] + data %s) x %s shares - discount %s\n' \
  "$(coin_amount fee <<<"$quote")" "$(coin_amount compute_fee <<<"$quote")" "$R_UNITS" "$(coin_amount unit_price <<<"$quote")" \
  "$(num urgency_multiplier_ppm <<<"$quote")ppm" "$(coin_amount data_fee <<<"$quote")" "$(num shares <<<"$quote")" \
  "$(coin_amount discount <<<"$quote")"
[ "$(coin_amount fee <<<"$quote")" != 0 ] || die "no fee in the quote: $quote"
load_account alice
ALICE_BEFORE=$(balance "${ADDR[alice]}")
send alice deferral submit-request high-priority "$R_UNITS" "$R_MAX_FEE$DENOM" --replicas "$REPLICAS" \
  --urgency high --payload "$R_PAYLOAD"
res=$(wait_tx "$TX_HASH")
R_ID=$(event_attr repshard.deferral.v1.EventRequestSubmitted request_id <<<"$res")
R_FEE=$(event_attr repshard.deferral.v1.EventRequestSubmitted fee <<<"$res" | coin_text_amount)
reason=$(event_attr repshard.deferral.v1.EventRequestDeferred reason <<<"$res")
[ -n "$R_ID" ] || die "no request id in the submit tx"
info "request $R_ID: fee escrowed $R_FEE$DENOM (EventRequestSubmitted in the tx response), $(
  if [ -n "$reason" ]; then echo "deferred ($reason): the EndBlock drain assigns both replicas together"; else echo "both replicas assigned at once"; fi)"
# Each worker daemon runs its own replica (the assignment names it in
# replica_runs) and reports the sha256 of the payload; the two agree.
info "the worker daemons run their replicas and report (repshardd worker run)"
for _ in $(seq 1 30); do
  rj=$(q deferral request "$R_ID" -o json)
  st=$(enum_name "$(json_str status <<<"$rj")")
  case $st in
  COMPLETED) break ;;
  FAILED | NO_QUORUM | EXPIRED | CANCELLED) die "replicated request $R_ID ended $st: $rj" ;;
  esac
  sleep 1
done
[ "$st" = COMPLETED ] || die "replicated request $R_ID is still $st after 30 s"
R_HASH=$(json_str result_hash <<<"$rj" | b64_hex)
WANT_HASH=$(printf '%s' "$R_PAYLOAD" | sha256sum | cut -c1-64)
info "repshardd q deferral request $R_ID -o json (the fields of interest):"
printf '    %-17s %s\n' status "$st" replicas "$(num replicas <<<"$rj")" \
  result_hash "$R_HASH" fee "$(coin_amount fee <<<"$rj")$DENOM"
R_RUNS=0
while IFS= read -r run; do
  [ -n "$run" ] || continue
  R_RUNS=$((R_RUNS + 1))
  printf '    %-17s %-8s %-9s result_hash %s  (assigned at %s, deadline %s)\n' "replica_runs[$((R_RUNS - 1))]" \
    "$(who "$(json_str worker <<<"$run")")" "$(enum_name "$(json_str status <<<"$run")")" \
    "$(short_hex "$(json_str result_hash <<<"$run" | b64_hex)")" "$(num assigned_height <<<"$run")" "$(num deadline_height <<<"$run")"
done < <(obj_list replica_runs <<<"$rj")
[ "$R_RUNS" = "$REPLICAS" ] || die "request $R_ID has $R_RUNS replica runs, expected $REPLICAS"
[ "$R_HASH" = "$WANT_HASH" ] || die "request $R_ID's result hash $R_HASH is not the sha256 of its payload ($WANT_HASH)"
info "both replicas reported sha256(\"$R_PAYLOAD\") = $(short_hex "$WANT_HASH"): the quorum agreed"
ALICE_AFTER=$(balance "${ADDR[alice]}")
R_PAID=$((ALICE_BEFORE - ALICE_AFTER - TX_FEE_AMOUNT))
SHARE=$((R_FEE / (REPLICAS + TIEBREAK)))
info "alice's balance: $ALICE_BEFORE -> $ALICE_AFTER $DENOM: $TX_FEE_AMOUNT tx fee + $R_PAID paid for the request"
info "escrowed $R_FEE, paid $R_PAID ($REPLICAS agreeing replicas × $SHARE), refunded $((R_FEE - R_PAID)) (the $TIEBREAK unused tie-break shares)"
[ "$R_FEE" -le "$R_MAX_FEE" ] || die "the escrowed fee $R_FEE is above the max fee $R_MAX_FEE"
[ "$R_PAID" = "$((REPLICAS * SHARE))" ] || die "alice paid $R_PAID for request $R_ID, expected $((REPLICAS * SHARE))"

section "A batch: bob submits 5 requests in one transaction (repshardd tx deferral submit-requests)"
BATCH_FILE=$DEMO_HOME/bob-jobs.jsonl
: >"$BATCH_FILE"
for j in 1 2 3 4 5; do
  class=${CLASSES[$((j % 2))]} units=$((2 + j))
  printf '{"class":"%s","compute_units":%d,"max_fee":"%d%s","urgency":"%s","payload":"bob: batch job %d, sum the first %d integers"}\n' \
    "$class" "$units" "$((units * MAXU))" "$DENOM" "${URGENCIES[$((j % 4))]}" "$j" "$((units * 1000))" >>"$BATCH_FILE"
done
info "one JSON object per line, the keys of submit-request in snake_case ($BATCH_FILE):"
sed 's/^/    /' "$BATCH_FILE"
info "bob: tx deferral submit-requests $BATCH_FILE"
load_account bob
GAS=2000000 FEES=25000$DENOM send bob deferral submit-requests "$BATCH_FILE"
res=$(wait_tx "$TX_HASH")
BATCH_IDS=()
while IFS= read -r id; do
  [ -n "$id" ] && BATCH_IDS+=("$id")
done < <(compact <<<"$res" | sed 's/{"type":/\n&/g' | { grep '^{"type":"repshard.deferral.v1.EventRequestSubmitted"' || true; } |
  { grep -oE '"key":"request_id","value":"[^,]*' || true; } | { grep -oE '[0-9]+' || true; })
[ "${#BATCH_IDS[@]}" = 5 ] || die "the batch tx recorded ${#BATCH_IDS[@]} requests, expected 5"
info "one tx, $(json_num gas_used <<<"$res") gas for 5 requests: ids ${BATCH_IDS[*]}, each decided as submit-request would"
info "(the tx pays one signature and one fee; the shard, worker and balance records all five touch are written once)"
for _ in $(seq 1 60); do
  done_n=0
  for id in "${BATCH_IDS[@]}"; do
    st=$(enum_name "$(json_str status <<<"$(q deferral request "$id" -o json)")")
    [ "$st" = COMPLETED ] && done_n=$((done_n + 1))
  done
  [ "$done_n" = 5 ] && break
  sleep 1
done
for id in "${BATCH_IDS[@]}"; do
  rj=$(q deferral request "$id" -o json)
  printf '    request %-4s %-10s %-18s %4s units, worker %s\n' "$id" "$(enum_name "$(json_str status <<<"$rj")")" \
    "$(enum_name "$(json_str class <<<"$rj")" | sed 's/^SHARD_CLASS_//')" "$(num compute_units <<<"$rj")" "$(who "$(json_str worker <<<"$rj")")"
done
[ "$done_n" = 5 ] || die "only $done_n of the batch's 5 requests completed within 60 s"

section "The data plane: a payload held on a web server, the result fetched back (repshardd request fetch-result)"
# alice's data does not go on chain: it sits on her own web server (here a
# small file server on loopback, scripts/demo-fileserver). The chain records
# its URI, its sha256 and its size; the worker fetches it, checks it against
# the hash before running anything, runs the job and keeps the result; alice
# downloads the result from the worker's endpoint (on chain) by signing a
# challenge, and checks it against the result hash on chain.
DATA_DIR=$DEMO_HOME/data
mkdir -p "$DATA_DIR"
for k in $(seq 1 40); do printf 'ledger line %02d: account %d moved %d urep\n' "$k" "$((k * 7 % 13))" "$((k * 1000))"; done >"$DATA_DIR/ledger.txt"
DATA_HASH=$(sha256sum <"$DATA_DIR/ledger.txt" | cut -c1-64)
DATA_BYTES=$(wc -c <"$DATA_DIR/ledger.txt")
build/demo-fileserver -addr "127.0.0.1:$DATA_PORT" -dir "$DATA_DIR" 2>"$DEMO_HOME/fileserver.log" &
FILESERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q serving "$DEMO_HOME/fileserver.log" 2>/dev/null && break
  sleep 0.2
done
grep -q serving "$DEMO_HOME/fileserver.log" || die "the demo file server did not start: $(cat "$DEMO_HOME/fileserver.log")"
DATA_URI=http://127.0.0.1:$DATA_PORT/ledger.txt
info "alice's data: $DATA_URI ($DATA_BYTES bytes, sha256 $(short_hex "$DATA_HASH"))"
info "alice: tx deferral submit-request high-priority 3 ... --payload-uri $DATA_URI --payload-hash <sha256> --data-bytes $DATA_BYTES"
wait_quiet "$HONEST" "$PICKY"
load_account alice
send alice deferral submit-request high-priority 3 "$((3 * MAXU + 10000))$DENOM" --urgency high \
  --payload-uri "$DATA_URI" --payload-hash "$DATA_HASH" --data-bytes "$DATA_BYTES"
res=$(wait_tx "$TX_HASH")
D_ID=$(event_attr repshard.deferral.v1.EventRequestSubmitted request_id <<<"$res")
[ -n "$D_ID" ] || die "no request id in alice's submission"
for _ in $(seq 1 60); do
  rj=$(q deferral request "$D_ID" -o json)
  st=$(enum_name "$(json_str status <<<"$rj")")
  case $st in COMPLETED | FAILED | EXPIRED | CANCELLED) break ;; esac
  sleep 1
done
[ "$st" = COMPLETED ] || die "request $D_ID ended $st: $(json_str failure_reason <<<"$rj")"
D_WORKER=$(who "$(json_str worker <<<"$rj")")
D_RESULT=$(json_str result_hash <<<"$rj" | b64_hex)
info "request $D_ID: COMPLETED by $D_WORKER, result_hash $(short_hex "$D_RESULT")"
info "$D_WORKER fetched it: $(grep -c 'GET /ledger.txt' "$DEMO_HOME/fileserver.log") GET of /ledger.txt in the file server's log"
info "$D_WORKER's endpoint on chain (q shard worker): $(q shard worker "${ADDR[$D_WORKER]}" -o json | json_str endpoint)"
info "alice: request fetch-result $D_ID --from alice --out $DEMO_HOME/result.txt"
rsd request fetch-result "$D_ID" --from alice --keyring-backend test --chain-id "$CHAIN_ID" --node "$NODE" \
  --out "$DEMO_HOME/result.txt" 2>&1 | sed 's/^/    /'
[ -s "$DEMO_HOME/result.txt" ] || die "fetch-result wrote no result"
GOT=$(sha256sum <"$DEMO_HOME/result.txt" | cut -c1-64)
[ "$GOT" = "$D_RESULT" ] || die "the fetched result has sha256 $GOT, not the result hash $D_RESULT on chain"
info "the result's sha256 is the result hash on chain; the echo job's result is alice's data: $(cmp -s "$DEMO_HOME/result.txt" "$DATA_DIR/ledger.txt" && echo identical || echo DIFFERENT)"
info "bob: request fetch-result $D_ID --from bob (not the requester, not its delegate)"
if out=$(rsd request fetch-result "$D_ID" --from bob --keyring-backend test --chain-id "$CHAIN_ID" --node "$NODE" \
  --out "$DEMO_HOME/bob-result.txt" 2>&1); then
  die "bob fetched alice's result"
fi
printf '%s\n' "$out" | sed -n '1s/^/    /p'
[ ! -e "$DEMO_HOME/bob-result.txt" ] || die "a result was written for bob"
info "refused: the worker serves a result only to its requester or the requester's result delegate"

section "alice rates a worker (repshardd tx reputation rate-worker)"
# The first of alice's requests that worker1 completed on its own (else the
# first that any worker did).
RATED_ID= RATED=
reqs=$(q deferral requests-by-requester "${ADDR[alice]}" -o json --page-limit 200 | json_items)
while IFS= read -r line; do
  [ "$(json_str status <<<"$line")" = REQUEST_STATUS_COMPLETED ] || continue
  [ "$(num replicas <<<"$line")" -le 1 ] || continue
  w=$(who "$(json_str worker <<<"$line")")
  if [ -z "$RATED_ID" ] || [ "$w" = "$HONEST" ]; then
    RATED_ID=$(json_num id <<<"$line") RATED=$w
  fi
  [ "$RATED" != "$HONEST" ] || break
done <<<"$reqs"
[ -n "$RATED_ID" ] || die "alice has no completed request to rate"
# wprofile NAME: NAME's worker profile (JSON).
wprofile() { q reputation worker-profile "${ADDR[$1]}" -o json; }
wp=$(wprofile "$RATED")
info "Only the requester of a request the worker completed may rate it, once, 1 (worst) to 5 (best);"
info "the rating weighs by the rater's own requester score. The worker score is"
info "$(ppm_dec "$(q reputation params -o json | num worker_weight_reliability_ppm)") × reliability + $(ppm_dec "$(q reputation params -o json | num worker_weight_rating_ppm)") × rating."
info "$RATED before: score $(ppm_dec "$(num score <<<"$wp")"), rating $(ppm_dec "$(num rating_ppm <<<"$wp")"), $(num ratings_received <<<"$wp") ratings received"
info "alice: tx reputation rate-worker $RATED_ID 5   (request $RATED_ID was completed by $RATED)"
send alice reputation rate-worker "$RATED_ID" 5
res=$(wait_tx "$TX_HASH")
info "EventWorkerRated: rating 5, weight $(ppm_dec "$(event_attr repshard.reputation.v1.EventWorkerRated weight_ppm <<<"$res")") (alice's score)"
wp=$(wprofile "$RATED")
info "$RATED after:  score $(ppm_dec "$(num score <<<"$wp")"), rating $(ppm_dec "$(num rating_ppm <<<"$wp")"), $(num ratings_received <<<"$wp") ratings received"
[ "$(num ratings_received <<<"$wp")" -ge 1 ] || die "$RATED's profile counts no rating"
info "repshardd q reputation worker-profile $RATED"
q reputation worker-profile "${ADDR[$RATED]}" | sed 's/^/    /'

# --- 9. summary -----------------------------------------------------------------

section "Summary: requests by status (q deferral requests-by-status <status>)"
for s in queued assigned completed failed expired cancelled no-quorum; do
  printf '  %-10s %4s\n' "$s" "$(status_count "$s")"
done
reasons=
for reason in "${!DEFER_REASONS[@]}"; do reasons+="${reasons:+, }$reason ${DEFER_REASONS[$reason]}"; done
info "of the $SUBMITTED submitted in the workload: $N_NOW assigned to a worker at once, $N_DEFERRED deferred into a shard"
info "queue${reasons:+ ($reasons)} and drained to workers in EndBlock (bob's two cancelled ones excepted);"
info "$N_REPORTS of $FAILING's were reported failed by $PICKY, re-queued and completed by $HONEST; and alice's"
info "replicated request $R_ID completed"
EXPIRED_ASSIGNMENTS=$(cat "$DEMO_HOME"/worker*.log | grep -c 'too late\|REJECTED' || true)
[ "${EXPIRED_ASSIGNMENTS:-0}" = 0 ] || info "$EXPIRED_ASSIGNMENTS worker reports came after their deadline; those requests were re-queued"

section "Summary: shards (q shard shards, q deferral shard-queue <id>)"
print_shards

# print_scores: one line per requester from q reputation profile.
print_scores() {
  local name p
  printf '  %-6s %-44s %7s %11s %10s %7s %10s %10s %6s\n' name address score completion frequency peer submitted completed failed
  for name in "${REQUESTERS[@]}"; do
    p=$(q reputation profile "${ADDR[$name]}" -o json)
    SCORE[$name]=$(num score <<<"$p")
    SUBMITTED_BY[$name]=$(num submitted <<<"$p")
    COMPLETED_BY[$name]=$(num completed <<<"$p")
    FAILED_BY[$name]=$(num failed <<<"$p")
    printf '  %-6s %-44s %7s %11s %10s %7s %10s %10s %6s\n' "$name" "${ADDR[$name]}" "$(ppm_dec "${SCORE[$name]}")" \
      "$(ppm_dec "$(num completion_ppm <<<"$p")")" "$(ppm_dec "$(num frequency_ppm <<<"$p")")" \
      "$(ppm_dec "$(num peer_ppm <<<"$p")")" "${SUBMITTED_BY[$name]}" "${COMPLETED_BY[$name]}" "${FAILED_BY[$name]}"
  done
}
declare -A SCORE=() SUBMITTED_BY=() COMPLETED_BY=() FAILED_BY=()
DEFAULT_SCORE=$(q reputation params -o json | num default_score_ppm)
section "Summary: requester reputation (q reputation profile <address>)"
info "a requester without history scores $(ppm_dec "$DEFAULT_SCORE"); completions raise the score, failures lower it;"
info "peer is the workers' ratings of the requester (each daemon rates 5 after a completion)"
print_scores
declare -A SCORE_BEFORE=()
for name in "${REQUESTERS[@]}"; do SCORE_BEFORE[$name]=${SCORE[$name]}; done
info "$FAILING: ${COMPLETED_BY[$FAILING]} completed, ${FAILED_BY[$FAILING]} failed: $PICKY's reports were contradicted, so none counts against her"
[ "${FAILED_BY[$FAILING]}" = 0 ] || die "$FAILING's profile counts ${FAILED_BY[$FAILING]} failures"
[ "${COMPLETED_BY[$FAILING]}" -gt 0 ] && [ "${COMPLETED_BY[$FAILING]}" = "${SUBMITTED_BY[$FAILING]}" ] ||
  die "$FAILING's profile counts ${COMPLETED_BY[$FAILING]} completions of ${SUBMITTED_BY[$FAILING]} requests"
[ "${SCORE[$FAILING]}" -gt "$DEFAULT_SCORE" ] || die "$FAILING's score is not above the default"

section "Summary: worker reputation (q reputation top-workers)"
info "score = weighted reliability (completions, quorum agreements and confirmed failures against"
info "contradicted failures, quorum dissents and expiries) and rating (requesters' ratings); x/shard"
info "assigns to the highest score tier first and pauses a worker below min_worker_score_ppm"
printf '  %-8s %7s %11s %7s %9s %12s %9s %7s %7s %7s %6s\n' worker score reliability rating completed contradicted confirmed quorum+ expired ratings paused
declare -A WSCORE=() WCONTRA=()
# One profile per line (each object starts with "address", which no nested object has).
profiles=$(q reputation top-workers -o json | compact | sed 's/},{"address":/}\n{"address":/g')
while IFS= read -r line; do
  addr=$(json_str address <<<"$line")
  [ -n "$addr" ] || continue
  w=$(who "$addr")
  WSCORE[$w]=$(num score <<<"$line")
  WCONTRA[$w]=$(num failures_contradicted <<<"$line")
  paused=no
  case $line in *'"paused":true'*) paused=yes ;; esac
  printf '  %-8s %7s %11s %7s %9s %12s %9s %7s %7s %7s %6s\n' "$w" "$(ppm_dec "${WSCORE[$w]}")" \
    "$(ppm_dec "$(num reliability_ppm <<<"$line")")" "$(ppm_dec "$(num rating_ppm <<<"$line")")" \
    "$(num completions <<<"$line")" "${WCONTRA[$w]}" "$(num failures_confirmed <<<"$line")" \
    "$(num quorum_agreements <<<"$line")" "$(num expiries <<<"$line")" "$(num ratings_received <<<"$line")" "$paused"
done <<<"$profiles"
info "(highest score first; quorum+ = quorum agreements; ratings = ratings received from requesters)"
[ "${WCONTRA[$PICKY]:-0}" -gt 0 ] || die "$PICKY's profile counts no contradicted failure"
[ "${WCONTRA[$HONEST]:-0}" = 0 ] || die "$HONEST's profile counts ${WCONTRA[$HONEST]} contradicted failures"
[ "${WSCORE[$PICKY]:-0}" -lt "${WSCORE[$HONEST]:-0}" ] ||
  die "$PICKY's score $(ppm_dec "${WSCORE[$PICKY]:-0}") is not below $HONEST's $(ppm_dec "${WSCORE[$HONEST]:-0}")"
info "$PICKY: ${WCONTRA[$PICKY]} failure reports contradicted, score $(ppm_dec "${WSCORE[$PICKY]}") < $HONEST's $(ppm_dec "${WSCORE[$HONEST]}")"

section "Summary: worker rewards (q rewards pending-rewards, q shard worker)"
printf '  %-8s %5s %9s %6s %7s %14s %12s %12s\n' worker shard completed failed expired "pending (urep)" "slashed" "bond"
declare -A PENDING_REWARD=()
for w in "${WORKERS[@]}"; do
  pr=$(q rewards pending-rewards "${ADDR[$w]}" -o json)
  wj=$(q shard worker "${ADDR[$w]}" -o json)
  PENDING_REWARD[$w]=$(coin_amount total <<<"$pr")
  printf '  %-8s %5s %9s %6s %7s %14s %12s %12s\n' "$w" "$(num shard_id <<<"$wj")" "$(num completed <<<"$wj")" \
    "$(num failed <<<"$wj")" "$(num expired <<<"$wj")" "${PENDING_REWARD[$w]}" "$(coin_amount slashed <<<"$pr")" \
    "$(coin_amount bond <<<"$wj")"
done
info "(a completed request pays its fee less the protocol share; a contradicted failure report earns nothing)"

section "worker1 claims its rewards (repshardd tx rewards claim-rewards)"
# worker1's daemon signs txs with its key too (reports, then a review of each
# requester a block later): wait until its account has sent nothing for 3
# blocks, then read its sequence from the chain.
wait_quiet worker1
load_account worker1
# An epoch closing between the query and the claim would add its epoch
# rewards to the claim: claim with at least 5 blocks left in the epoch.
for _ in $(seq 1 30); do
  EPOCH_END=$(q rewards epoch -o json | num end_height)
  [ $((EPOCH_END - $(height))) -gt 5 ] && break
  sleep 1
done
info "reward epoch $(q rewards epoch -o json | num number) ends at height $EPOCH_END (q rewards epoch)"
PENDING_REWARD[worker1]=$(q rewards pending-rewards "${ADDR[worker1]}" -o json | coin_amount total)
BEFORE=$(balance "${ADDR[worker1]}")
send worker1 rewards claim-rewards
wait_tx "$TX_HASH" >/dev/null
AFTER=$(balance "${ADDR[worker1]}")
FEE_AMOUNT=$TX_FEE_AMOUNT
info "balance before: $BEFORE $DENOM"
info "balance after:  $AFTER $DENOM"
info "change:         $((AFTER - BEFORE)) $DENOM = ${PENDING_REWARD[worker1]} claimed - $FEE_AMOUNT tx fee"
[ "$((AFTER - BEFORE))" = "$((PENDING_REWARD[worker1] - FEE_AMOUNT))" ] || die "the balance change is not the claimed rewards less the fee"
info "pending rewards of worker1 now: $(q rewards pending-rewards "${ADDR[worker1]}" -o json | coin_amount total) $DENOM"

# --- 10. governance proposal -----------------------------------------------------

section "Governance proposal: change the x/reputation completion weight"
# The proposal carries the complete Params message, so start from the current
# params and change one field.
PARAMS=$(q reputation params -o json | compact | sed -E 's/^\{"params":(.*)\}$/\1/')
OLD_WEIGHT=$(json_num weight_completion <<<"$PARAMS")
[ -n "$OLD_WEIGHT" ] || die "weight_completion not found in: $PARAMS"
NEW_WEIGHT=${DEMO_NEW_WEIGHT:-$((OLD_WEIGHT + 1))}
NEW_PARAMS=$(sed -E "s/\"weight_completion\":\"?[0-9]+\"?/\"weight_completion\":$NEW_WEIGHT/" <<<"$PARAMS")
# The deposit is the gov min_deposit: {"denom":"urep","amount":"10000000"} -> 10000000urep.
DEPOSIT=$(q gov params -o json | compact | { grep -oE '"min_deposit":\[\{[^]]*\}' || true; } | sed -n '1p' |
  sed -E 's/.*"denom":"([^"]+)".*"amount":"([0-9]+)".*/\2\1/; s/.*"amount":"([0-9]+)".*"denom":"([^"]+)".*/\1\2/')
[ -n "$DEPOSIT" ] || die "could not read the gov min_deposit"
info "weight_completion: $OLD_WEIGHT -> $NEW_WEIGHT (deposit $DEPOSIT)"
info "new params: $NEW_PARAMS"

SUBMIT=$(tx reputation update-params-proposal "$NEW_PARAMS" \
  --title "Raise the completion weight" \
  --summary "Sets x/reputation weight_completion to $NEW_WEIGHT." \
  --deposit "$DEPOSIT")
PROPOSAL_ID=$(compact <<<"$SUBMIT" | { grep -oE '"key":"proposal_id","value":"[0-9]+"' || true; } |
  sed -n '1s/.*"\([0-9]*\)"$/\1/p')
[ -n "$PROPOSAL_ID" ] || die "no proposal_id event in the submit tx"
info "proposal $PROPOSAL_ID submitted"

section "Voting yes on proposal $PROPOSAL_ID with the validator"
tx gov vote "$PROPOSAL_ID" yes >/dev/null

section "Waiting for proposal $PROPOSAL_ID to pass (voting period $VOTING_PERIOD)"
status=
for _ in $(seq 1 60); do
  status=$(q gov proposal "$PROPOSAL_ID" -o json 2>/dev/null | json_str status || true)
  case $status in
  PROPOSAL_STATUS_PASSED) break ;;
  PROPOSAL_STATUS_REJECTED | PROPOSAL_STATUS_FAILED)
    die "proposal $PROPOSAL_ID ended as $status: $(q gov proposal "$PROPOSAL_ID" -o json)"
    ;;
  esac
  sleep 1
done
[ "$status" = PROPOSAL_STATUS_PASSED ] || die "proposal $PROPOSAL_ID still $status after 60 s"
info "proposal $PROPOSAL_ID: $status"

section "x/reputation params after the proposal"
GOT=$(q reputation params -o json | json_num weight_completion)
info "weight_completion = $GOT (was $OLD_WEIGHT)"
[ "$GOT" = "$NEW_WEIGHT" ] || die "expected weight_completion $NEW_WEIGHT, got $GOT"

section "Requester reputation with weight_completion = $GOT"
print_scores
for name in "${REQUESTERS[@]}"; do
  info "$name: $(ppm_dec "${SCORE_BEFORE[$name]:-0}") -> $(ppm_dec "${SCORE[$name]:-0}")"
done

section "Done: stopping the node and removing $DEMO_HOME"

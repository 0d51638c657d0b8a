#!/usr/bin/env bash
# make bench-load: a single-node chain under load from a real signing client.
#
# Starts a one-validator chain from a fresh home (ports 17656/17657/17090/
# 17317, clear of the localnet's 26656+100i, the demo's 36656+ and the e2e
# tests' 44656..47000; LOAD_*_PORT override them), funds
# LOAD_ACCOUNTS accounts in genesis, and runs cmd/repshard-load: account 0
# registers as a worker with a large capacity, then at each offered rate of
# LOAD_RATES the others broadcast (broadcast_tx_sync) bank MsgSend for
# LOAD_DURATION, then MsgSubmitRequest, then a 50/50 mix, all pre-signed;
# then batches (MsgSubmitRequests of LOAD_BATCH_SIZE requests, default 100)
# offered at LOAD_BATCH_RATE txs/s (default 40; 0 skips the batch phase).
# Afterwards every request of an included tx must be found on chain by its
# requester (the run fails otherwise).
# It prints included tx/s and p50/p99 inclusion latency per phase and the
# request/send ratio per rate, and writes them to build/bench-load.json.
#
# Operator settings, to measure their effect (each unset = as before):
#   LOAD_INDEXER=kv|null          config.toml [tx_index] indexer (default kv)
#   LOAD_TIMEOUT_COMMIT=1s        config.toml timeout_commit (default 1s)
#   LOAD_MEMPOOL_SIZE=50000       config.toml [mempool] size (default 50000)
#   LOAD_RECHECK=true|false       config.toml [mempool] recheck (default true)
#   LOAD_IAVL_CACHE=781250        app.toml iavl-cache-size in nodes (default 781250)
#   LOAD_IAVL_FASTNODE=true       false: app.toml iavl-disable-fastnode = true
#   LOAD_OPTIMISTIC=false|true    app.toml [repshard] optimistic-execution (default false)
#   LOAD_GOGC=100                 the node's GOGC (default: unset, Go's 100)
# Other knobs:
#   LOAD_ASSIGNMENT_TIMEOUT_BLOCKS=N  x/deferral assignment_timeout_blocks in the
#                                 genesis (default: the module default, 20). The
#                                 load's worker never reports: after that many
#                                 blocks its assignments expire, its score falls
#                                 and later submissions are queued, not assigned.
#   LOAD_KINDS=send,submit,mix    phases at each rate (default all three)
#   LOAD_BLOCK_RESULTS=true       false: the load generator does not fetch
#                                 block_results (its JSON is a large part of the
#                                 node's work under load) and counts every tx of
#                                 its own in a block as included, code unchecked
#   LOAD_PPROF=DIR                start the node with --rpc.pprof_laddr
#                                 127.0.0.1:$LOAD_PPROF_PORT (17060) and write a
#                                 CPU profile and an allocation delta of each
#                                 phase's sending window to
#                                 DIR/<kind>-<rate>.{cpu,allocs}.pprof, with the
#                                 txs sent and included in that window in the
#                                 JSON results (docs/BENCHMARKS.md, "Where a node
#                                 spends its time at saturation")
set -euo pipefail
cd "$(dirname "$0")/.."

RPC_PORT=${LOAD_RPC_PORT:-17657}
P2P_PORT=${LOAD_P2P_PORT:-17656}
GRPC_PORT=${LOAD_GRPC_PORT:-17090}
API_PORT=${LOAD_API_PORT:-17317}
RATES=${LOAD_RATES:-50,100,200,400}
DURATION=${LOAD_DURATION:-60s}
ACCOUNTS=${LOAD_ACCOUNTS:-200}
BATCH_SIZE=${LOAD_BATCH_SIZE:-100}
BATCH_RATE=${LOAD_BATCH_RATE:-40}
OUT=${LOAD_OUT:-$PWD/build/bench-load.json}
KINDS=${LOAD_KINDS:-send,submit,mix}
INDEXER=${LOAD_INDEXER:-kv}
TIMEOUT_COMMIT=${LOAD_TIMEOUT_COMMIT:-1s}
MEMPOOL_SIZE=${LOAD_MEMPOOL_SIZE:-50000}
RECHECK=${LOAD_RECHECK:-true}
IAVL_CACHE=${LOAD_IAVL_CACHE:-781250}
IAVL_FASTNODE=${LOAD_IAVL_FASTNODE:-true}
case "$IAVL_FASTNODE" in true) IAVL_DISABLE_FASTNODE=false ;; false) IAVL_DISABLE_FASTNODE=true ;; *) echo "LOAD_IAVL_FASTNODE: true or false" >&2; exit 2 ;; esac
OPTIMISTIC=${LOAD_OPTIMISTIC:-false}
NODE_GOGC=${LOAD_GOGC:-}
BLOCK_RESULTS=${LOAD_BLOCK_RESULTS:-true}
ASSIGN_TIMEOUT=${LOAD_ASSIGNMENT_TIMEOUT_BLOCKS:-0}
[[ "$ASSIGN_TIMEOUT" =~ ^[0-9]+$ ]] || { echo "LOAD_ASSIGNMENT_TIMEOUT_BLOCKS: a number of blocks" >&2; exit 2; }
case "$BLOCK_RESULTS" in true|false) ;; *) echo "LOAD_BLOCK_RESULTS: true or false" >&2; exit 2 ;; esac
PPROF_DIR=${LOAD_PPROF:-}
PPROF_PORT=${LOAD_PPROF_PORT:-17060}
case "$INDEXER" in kv|null) ;; *) echo "LOAD_INDEXER: kv or null" >&2; exit 2 ;; esac
case "$RECHECK" in true|false) ;; *) echo "LOAD_RECHECK: true or false" >&2; exit 2 ;; esac
case "$OPTIMISTIC" in true|false) ;; *) echo "LOAD_OPTIMISTIC: true or false" >&2; exit 2 ;; esac
[[ "$MEMPOOL_SIZE" =~ ^[0-9]+$ ]] || { echo "LOAD_MEMPOOL_SIZE: a number of txs" >&2; exit 2; }
[[ -z "$NODE_GOGC" || "$NODE_GOGC" =~ ^([0-9]+|off)$ ]] || { echo "LOAD_GOGC: a percentage or off" >&2; exit 2; }
[[ "$IAVL_CACHE" =~ ^[0-9]+$ ]] || { echo "LOAD_IAVL_CACHE: a number of nodes" >&2; exit 2; }
[[ "$TIMEOUT_COMMIT" =~ ^[0-9]+(ms|s)$ ]] || { echo "LOAD_TIMEOUT_COMMIT: a duration such as 500ms or 2s" >&2; exit 2; }
CHAIN_ID=repshard-load-1
DENOM=urep
NODE=tcp://127.0.0.1:$RPC_PORT

make --no-print-directory build
go build -o build/repshard-load ./cmd/repshard-load
BIN=$PWD/build/repshardd
LOADGEN=$PWD/build/repshard-load

HOME_DIR=$(mktemp -d "${TMPDIR:-/tmp}/repshard-load.XXXXXX")
LOG=$HOME_DIR/node.log
NODE_PID=
cleanup() {
  local rc=$?
  if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$LOG" ]; then tail -n 30 "$LOG" >&2 || true; fi
  rm -rf "$HOME_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rsd() { "$BIN" --home "$HOME_DIR" "$@"; }
rsd init load-node --chain-id "$CHAIN_ID" >/dev/null 2>&1
rsd keys add val --keyring-backend test >/dev/null 2>&1
rsd genesis add-genesis-account val "1000000000000$DENOM" --keyring-backend test
rsd genesis gentx val "100000000$DENOM" --chain-id "$CHAIN_ID" --keyring-backend test >/dev/null 2>&1
rsd genesis collect-gentxs >/dev/null 2>&1
"$LOADGEN" genesis -genesis "$HOME_DIR/config/genesis.json" -accounts "$ACCOUNTS" -assignment-timeout-blocks "$ASSIGN_TIMEOUT"
rsd genesis validate >/dev/null
sed -i -E "s/^minimum-gas-prices = .*/minimum-gas-prices = \"0.001$DENOM\"/" "$HOME_DIR/config/app.toml"
sed -i -E "s/^iavl-cache-size = .*/iavl-cache-size = $IAVL_CACHE/" "$HOME_DIR/config/app.toml"
sed -i -E "s/^iavl-disable-fastnode = .*/iavl-disable-fastnode = $IAVL_DISABLE_FASTNODE/" "$HOME_DIR/config/app.toml"
printf '\n[repshard]\noptimistic-execution = %s\n' "$OPTIMISTIC" >>"$HOME_DIR/config/app.toml"
sed -i -E "s/^timeout_commit = .*/timeout_commit = \"$TIMEOUT_COMMIT\"/" "$HOME_DIR/config/config.toml"
sed -i -E "s/^size = 5000\$/size = $MEMPOOL_SIZE/" "$HOME_DIR/config/config.toml"
sed -i -E "s/^recheck = .*/recheck = $RECHECK/" "$HOME_DIR/config/config.toml"
sed -i -E "s/^indexer = .*/indexer = \"$INDEXER\"/" "$HOME_DIR/config/config.toml"

PPROF_LADDR=
PPROF_ARGS=()
if [ -n "$PPROF_DIR" ]; then
  mkdir -p "$PPROF_DIR"
  PPROF_DIR=$(cd "$PPROF_DIR" && pwd)
  PPROF_LADDR=127.0.0.1:$PPROF_PORT
  PPROF_ARGS=(-pprof "http://$PPROF_LADDR" -pprof-dir "$PPROF_DIR")
fi

${NODE_GOGC:+env GOGC=$NODE_GOGC} "$BIN" start --home "$HOME_DIR" --rpc.laddr "$NODE" --p2p.laddr "tcp://127.0.0.1:$P2P_PORT" \
  --grpc.address "127.0.0.1:$GRPC_PORT" --api.address "tcp://127.0.0.1:$API_PORT" \
  --rpc.pprof_laddr "$PPROF_LADDR" --log_level error --log_no_color >"$LOG" 2>&1 &
NODE_PID=$!
for _ in $(seq 1 60); do
  kill -0 "$NODE_PID" 2>/dev/null || { echo "node exited during start-up" >&2; exit 1; }
  h=$(curl -s "http://127.0.0.1:$RPC_PORT/status" | grep -oE '"latest_block_height":"[0-9]+"' | grep -oE '[0-9]+' || true)
  [ "${h:-0}" -ge 2 ] && break
  sleep 1
done
[ "${h:-0}" -ge 2 ] || { echo "chain did not start" >&2; exit 1; }

# With LOAD_PPROF, a CPU log beside the profiles, every 2 s: unix time, the
# 1-min load average, the node's user+system ticks, the machine's busy and
# total ticks (/proc/stat), to see how much of the shared machine the node had.
if [ -n "$PPROF_DIR" ]; then
  (
    while kill -0 "$NODE_PID" 2>/dev/null; do
      node_ticks=$(awk '{print $14+$15}' "/proc/$NODE_PID/stat" 2>/dev/null || echo 0)
      read -r _ u n sy idle io irq sirq st _ </proc/stat
      echo "$(date +%s) $(cut -d' ' -f1 /proc/loadavg) $node_ticks $((u+n+sy+irq+sirq+st)) $((u+n+sy+idle+io+irq+sirq+st))"
      sleep 2
    done
  ) >"$PPROF_DIR/cpu.log" 2>/dev/null &
fi

echo "machine: $(nproc) cores (shared; load average $(cut -d" " -f1-3 /proc/loadavg) at start), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)"
echo "rates $RATES tx/s, $DURATION per phase ($KINDS), $ACCOUNTS accounts"
echo "settings: timeout_commit $TIMEOUT_COMMIT, tx indexer $INDEXER, mempool size $MEMPOOL_SIZE recheck $RECHECK, iavl-cache-size $IAVL_CACHE fastnode $IAVL_FASTNODE, optimistic execution $OPTIMISTIC, GOGC ${NODE_GOGC:-default}, block_results $BLOCK_RESULTS, assignment timeout ${LOAD_ASSIGNMENT_TIMEOUT_BLOCKS:-default} blocks${PPROF_DIR:+, profiles in $PPROF_DIR}"
"$LOADGEN" run -node "$NODE" -chain-id "$CHAIN_ID" -accounts "$ACCOUNTS" -rates "$RATES" -duration "$DURATION" \
  -kinds "$KINDS" -block-results="$BLOCK_RESULTS" -batch-size "$BATCH_SIZE" -batch-rate "$BATCH_RATE" \
  -out "$OUT" ${PPROF_ARGS[@]+"${PPROF_ARGS[@]}"}
echo "results: $OUT"

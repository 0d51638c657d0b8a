#!/usr/bin/env bash
# repshard end-to-end demo (make demo).
#
# From a clean checkout it builds repshardd, starts a throwaway one-validator
# chain, shows the parameters of the four repshard modules, and changes an
# x/reputation weight through a governance proposal: submit, vote yes, wait
# for PASSED, show the new value. The node is always stopped and its home
# removed, whether the demo succeeds or fails.
#
# Needs only Go, bash, coreutils and sed. Environment overrides:
#   DEMO_RPC_PORT (36657)  DEMO_P2P_PORT (36656)  DEMO_GRPC_PORT (39090)  DEMO_API_PORT (31317)
#   (clear of the localnet's 26657+100i, 26656+100i, 9090+100i and 1317+100i)
#   DEMO_NEW_WEIGHT        new weight_completion (default: current + 1)
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the demo too
cd "$(dirname "$0")/.."

BIN=$PWD/build/repshardd
CHAIN_ID=repshard-local-1
DENOM=urep
FEES=5000$DENOM
GAS=400000
VOTING_PERIOD=15s
EXPEDITED_VOTING_PERIOD=10s
RPC_PORT=${DEMO_RPC_PORT:-36657}
P2P_PORT=${DEMO_P2P_PORT:-36656}
GRPC_PORT=${DEMO_GRPC_PORT:-39090}
API_PORT=${DEMO_API_PORT:-31317}
NODE=tcp://127.0.0.1:$RPC_PORT

DEMO_HOME=$(mktemp -d "${TMPDIR:-/tmp}/repshard-demo.XXXXXX")
LOG=$DEMO_HOME/node.log
NODE_PID=

# --- helpers ----------------------------------------------------------------

section() { printf '\n==== %s ====\n' "$*"; }
info() { printf '  %s\n' "$*"; }
die() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
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
# json_num FIELD: the first "FIELD":123 or "FIELD":"123" number on stdin ("" if none).
json_num() { compact | { grep -oE "\"$1\":\"?[0-9]+" || true; } | sed -n '1s/.*[:"]\([0-9]*\)$/\1/p'; }

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
  for _ in $(seq 1 30); do
    if result=$(q tx "$hash" -o json 2>/dev/null); then
      code=$(json_num code <<<"$result")
      [ "${code:-0}" = 0 ] || die "tx $hash failed (code $code): $(json_str raw_log <<<"$result")"
      info "tx $hash included at height $(json_num height <<<"$result")" >&2
      printf '%s\n' "$result"
      return 0
    fi
    sleep 1
  done
  die "tx $hash was not included within 30 s"
}

height() { rsd status --node "$NODE" 2>/dev/null | json_num latest_block_height; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- 1. build -----------------------------------------------------------------

section "Building repshardd (make build)"
make --no-print-directory build
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
rsd genesis validate >/dev/null

sed -i -E "s/^minimum-gas-prices = .*/minimum-gas-prices = \"0.001$DENOM\"/" "$DEMO_HOME/config/app.toml"
info "app.toml minimum-gas-prices = 0.001$DENOM"
sed -i -E 's/^timeout_commit = .*/timeout_commit = "1s"/' "$DEMO_HOME/config/config.toml"
info "config.toml timeout_commit = 1s"

# --- 3. start -----------------------------------------------------------------

section "Starting the node (log: $LOG)"
for port in "$RPC_PORT" "$P2P_PORT" "$GRPC_PORT" "$API_PORT"; do
  if port_in_use "$port"; then
    die "port $port is in use; set DEMO_RPC_PORT/DEMO_P2P_PORT/DEMO_GRPC_PORT/DEMO_API_PORT"
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

# --- 5. governance proposal -----------------------------------------------------

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

section "Done: stopping the node and removing $DEMO_HOME"

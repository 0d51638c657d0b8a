#!/usr/bin/env bash
# Regenerates the gogoproto, gRPC and grpc-gateway code of proto/ offline.
# Third-party .proto files come from the Go module cache at the versions go.mod
# pins; the generators come from tools/go.mod (make tools).
#   scripts/protocgen.sh            generate into the source tree
#   scripts/protocgen.sh deps-only  only stage third-party protos (.proto-deps)
#   scripts/protocgen.sh OUTDIR     generate into OUTDIR instead (proto-check)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/build/tools:$PATH"
for tool in buf protoc-gen-gocosmos protoc-gen-grpc-gateway; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run 'make tools'" >&2; exit 1; }
done

MODS="github.com/cosmos/cosmos-sdk github.com/cosmos/gogoproto github.com/cosmos/cosmos-proto github.com/grpc-ecosystem/grpc-gateway"
# shellcheck disable=SC2086
go mod download $MODS
moddir() { go list -m -f '{{.Dir}}' "$1"; }

DEPS=.proto-deps
rm -rf "$DEPS" && mkdir -p "$DEPS/gogoproto" "$DEPS/cosmos_proto" "$DEPS/google/api"
SDK=$(moddir github.com/cosmos/cosmos-sdk)
cp -r "$SDK/proto/cosmos" "$SDK/proto/amino" "$SDK/proto/tendermint" "$DEPS/"
cp "$(moddir github.com/cosmos/gogoproto)/gogoproto/gogo.proto" "$DEPS/gogoproto/"
cp "$(moddir github.com/cosmos/cosmos-proto)/proto/cosmos_proto/cosmos.proto" "$DEPS/cosmos_proto/"
cp "$(moddir github.com/grpc-ecosystem/grpc-gateway)"/third_party/googleapis/google/api/{annotations,http,httpbody}.proto "$DEPS/google/api/"
chmod -R u+w "$DEPS" # module-cache files are read-only
[ "${1:-}" = "deps-only" ] && exit 0

DEST=${1:-.}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
buf generate --template proto/buf.gen.gogo.yaml -o "$OUT" proto
mkdir -p "$DEST"
# files land by go_package, e.g. x/shard/types/*.pb.go
cp -r "$OUT/$(go list -m)"/. "$DEST/"

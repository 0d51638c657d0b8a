#!/usr/bin/make -f
# repshard — build, test, lint, protobuf and local-network targets.
# `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

BUILDDIR  := $(CURDIR)/build
TOOLSDIR  := $(BUILDDIR)/tools
BINARY    := repshardd

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  := $(shell git log -1 --format='%H' 2>/dev/null)

SDK_VERSION_PKG := github.com/cosmos/cosmos-sdk/version
LDFLAGS := -X $(SDK_VERSION_PKG).Name=repshard \
           -X $(SDK_VERSION_PKG).AppName=$(BINARY) \
           -X $(SDK_VERSION_PKG).Version=$(VERSION) \
           -X $(SDK_VERSION_PKG).Commit=$(COMMIT)
BUILD_FLAGS := -ldflags '$(LDFLAGS)'

# go test's -timeout applies to each package's test binary.
TEST_TIMEOUT ?= 10m
LOCALNET_NODES ?= 4

.PHONY: all help build install test lint tidy-check tools proto-gen proto-check demo \
        localnet-start localnet-stop clean bench bench-gas bench-endblock bench-rewards test-e2e \
        test-sim-short test-sim-long test-fuzz bench-load bench-state test-system
.PHONY: loadwave bench-scheduler bench-gas-profile bench-drain

all: build

help:
	@echo "make build           build $(BUILDDIR)/$(BINARY)"
	@echo "make install         install $(BINARY) into \$$GOBIN"
	@echo "make test            run the unit and integration tests"
	@echo "make test-e2e        end-to-end tests on real processes: 4 validators, 2 worker daemons, faults, partition, metrics;"
	@echo "                     a software upgrade and a state sync join (testutil/e2e; CI; root for iptables)"
	@echo "make test-system     system tests on the SDK's framework (tests/systemtests): a 4-validator testnet of build/repshardd,"
	@echo "                     bank, staking, gov, authz, signing, fee grant, distribution, mint, snapshots, export, repshard flows"
	@echo "                     (CI; about 10 min on a loaded 2-core machine; ports from SYSTEMTEST_PORT_BASE, default 31657)"
	@echo "make lint            gofmt, go vet, and detcheck (no time.Now, randomness, goroutines, floats or map ranges in the state machine)"
	@echo "make tidy-check      go.mod/go.sum (app, tools/, tests/systemtests/) as 'go mod tidy' leaves them, and 'buf lint' of proto/ (CI, ~5 s warm)"
	@echo "                     (buf breaking vs the previous release tag comes with the first tag: docs/protobuf.md)"
	@echo "make tools           build buf and the protoc plugins (tools/go.mod) into $(TOOLSDIR)"
	@echo "make proto-gen       regenerate x/*/types/*.pb.go and *.pb.gw.go from proto/"
	@echo "make proto-check     fail if the committed generated code differs from proto/"
	@echo "make demo            one-node chain: workers, 50 requests, summary, governance (scripts/demo.sh)"
	@echo "make localnet-start  start LOCALNET_NODES=$(LOCALNET_NODES) validators and 2 worker daemons on loopback (scripts/localnet.sh)"
	@echo "make localnet-stop   stop the localnet"
	@echo "make bench-gas       gas of MsgSubmitRequest (single and batches of 10/100) vs bank MsgSend, and of the EndBlock drain (docs/BENCHMARKS.md)"
	@echo "make bench-gas-profile  where a submission's gas goes, by function and store operation"
	@echo "make bench-endblock  EndBlock assigning 1,000 requests with 10^3 vs 10^6 queued (slow: fills IAVL)"
	@echo "make bench-drain     EndBlock assigning 10,000 queued requests: time and share of the 900 ms block"
	@echo "make test-sim-short  app simulation: invariants every block, determinism, import/export (CI, a few minutes)"
	@echo "make test-sim-long   the same simulation, longer and with more seeds (by hand)"
	@echo "make test-fuzz       each Go fuzz target for FUZZTIME=$(FUZZTIME)"
	@echo "make bench-state     state bytes per request record: open, finished, after pruning"
	@echo "make bench-load      single-node load test: bank MsgSend vs MsgSubmitRequest vs batches of 100 (by hand, minutes)"
	@echo "make bench-rewards   reward settlement: 10 vs 10,000 epochs elapsed, 10 vs 10,000 workers"
	@echo "make loadwave        drive the full app through a 10x traffic wave; writes docs/loadwave.csv and docs/loadwave.png"
	@echo "make bench-scheduler due-height queue vs FIFO vs strict priority on a 2x-overload trace (docs/BENCHMARKS.md)"
	@echo "make clean           remove build/ and .proto-deps/"

###############################################################################
###                                  Build                                  ###
###############################################################################

build:
	go build $(BUILD_FLAGS) -o $(BUILDDIR)/$(BINARY) ./cmd/$(BINARY)

install:
	go install $(BUILD_FLAGS) ./cmd/$(BINARY)

###############################################################################
###                              Test and lint                              ###
###############################################################################

test:
	go test -timeout $(TEST_TIMEOUT) ./...
	cd tools && go test ./detcheck/

# The app simulation (app/sim_test.go, build tag sims; SDK simsx runner):
# random valid and invalid msgs of every module, the chain's invariants (docs/architecture.md) after
# every block, app-hash determinism (3 seeds), export/import and simulation
# after import. The flags are the SDK's plus -SimSeeds and -SimRuns.
SIM_TESTS = TestFullAppSimulation|TestAppStateDeterminism|TestAppImportExport|TestAppSimulationAfterImport

test-sim-short:
	go test -tags sims ./app/ -run '$(SIM_TESTS)' -count=1 -timeout 30m \
	  -NumBlocks=50 -BlockSize=50 -SimSeeds=3 -SimRuns=3

test-sim-long:
	go test -tags sims ./app/ -run '$(SIM_TESTS)' -count=1 -timeout 4h -v \
	  -NumBlocks=400 -BlockSize=100 -SimSeeds=5 -SimRuns=3

# Go native fuzzing: each target runs FUZZTIME from its committed seed corpus
# (testdata/fuzz/<target>). go test -fuzz takes one target per run.
FUZZTIME ?= 10s
FUZZ_TARGETS = ./app:FuzzMsgServer ./app:FuzzTxDecode ./cmd/repshardd/worker:FuzzResultAuth ./cmd/repshardd/worker/sealed:FuzzOpenSealed

test-fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "go test $$pkg -run '^$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME)"; \
	  go test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done
# End-to-end tests (testutil/e2e, build tag e2e): they build repshardd
# themselves and run a 4-validator localnet with 2 worker daemons on loopback,
# on the first free port range below the ephemeral ports (E2E_PORT_BASE sets
# node0's RPC port instead). scripts/e2e-prereqs.sh first checks for root and
# iptables (installs it with apt-get when missing), which the partition
# scenario needs; E2E_SKIP_PARTITION=1 skips that scenario.
# TestUpgradeAndStateSync then runs a second localnet, on the same ports, of a
# binary built with -tags previous_release (the release before the newest
# upgrade): a governance upgrade to the normal build, then a new node joining
# by state sync. In CI (.ci/run).
E2E_TIMEOUT ?= 40m
test-e2e:
	scripts/e2e-prereqs.sh
	go test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v ./testutil/e2e/

# System tests (tests/systemtests: its own go.mod, build tag system_test) on
# the Cosmos SDK's framework cosmossdk.io/systemtests: a 4-validator testnet
# of build/repshardd on loopback (testnet init-files --single-host), driven
# through the CLI, REST and RPC. Node i's ports are init-files' shifted to
# SYSTEMTEST_PORT_BASE (node0's RPC, default 31657; clear of a default
# localnet, make demo and test-e2e). SYSTEMTEST_ARGS passes framework flags,
# e.g. '-verbose' or '-nodes-count=4'; SYSTEMTEST_RUN selects tests.
SYSTEMTEST_TIMEOUT ?= 40m
SYSTEMTEST_RUN ?= .
SYSTEMTEST_ARGS ?=
test-system: build
	cd tests/systemtests && go test -tags system_test -count=1 -timeout $(SYSTEMTEST_TIMEOUT) -v -run '$(SYSTEMTEST_RUN)' . \
	  -args -binary=$(BUILDDIR)/$(BINARY) $(SYSTEMTEST_ARGS)

# Every .go file of the repo, generated code included (it is gofmt-clean).
GO_FILES = $(shell find . \( -path ./.git -o -path ./build -o -path ./.proto-deps -o -path ./.localnet \) -prune \
             -o -name '*.go' -type f -print)

# Figures for docs/BENCHMARKS.md; each prints the numbers it measured.
bench: bench-gas bench-endblock

# State bytes of a request record while open, finished, and after pruning.
bench-state:
	go test ./app/ -run 'TestStateBytesPerRequest' -count=1 -v

# Gas of a submission, single and in batches, against a bank send (~10 s).
bench-gas:
	go test ./app/ -run 'TestSubmitRequestGasVersusBankSend|TestDrainGasMatchesTheCharge|TestReplicatedSubmissionGas|TestBatchSubmissionGas' -count=1 -v

# Where a submission's gas goes, by repshard function and store operation (~5 s).
bench-gas-profile:
	go test ./app/ -run 'TestSubmitRequestGasProfile' -count=1 -v

bench-endblock:
	go test ./x/deferral/keeper/ -run '^$$' -bench 'EndBlockDrain$$' -benchtime 5x -timeout 90m

# One EndBlock assigning 10,000 queued requests (committed IAVL state), its
# time and its share of the default 900 ms block interval (target <= 0.25,
# docs/BENCHMARKS.md); BENCH_DRAIN_ASSIGNMENTS=n assigns n instead. Takes
# about 15 s once the test binary is built (about 2 min to build it cold):
# filling the queue, then 6 EndBlocks. Not part of `make test`.
bench-drain:
	go test ./x/deferral/keeper/ -run '^$$' -bench EndBlockDrainTarget -benchtime 5x -count 1 -timeout 20m

bench-rewards:
	go test ./x/rewards/keeper/ -run '^$$' -bench Settle -benchtime 5000x -count 3 -timeout 20m

# The full load wave (~200 blocks of signed traffic, a few minutes); the small
# wave runs in `make test` (app/topology_test.go).
loadwave:
	go test -tags loadwave ./app/ -run TestLoadWaveFull -count=1 -v -timeout 30m

bench-scheduler:
	BENCH_SCHEDULER_OUT=$(CURDIR)/build/bench-scheduler.json go test ./x/deferral/keeper/ -run TestSchedulerQuality -count=1 -v

# The state machine: no time.Now, randomness, goroutines, floats or map
# ranges there (tools/detcheck).
STATE_MACHINE_PKGS = ./app/... $(wildcard ./x/*/keeper) $(wildcard ./x/*/types) ./internal/...

lint:
	@unformatted=$$(gofmt -l $(GO_FILES)); \
	if [ -n "$$unformatted" ]; then \
	  echo "gofmt: these files are not formatted (run gofmt -w on them):"; \
	  echo "$$unformatted" | sed 's/^/  /'; \
	  exit 1; \
	fi
	go vet ./...
	cd tests/systemtests && go vet -tags system_test ./...
	cd tools && go build -o $(TOOLSDIR)/detcheck ./detcheck
	$(TOOLSDIR)/detcheck $(STATE_MACHINE_PKGS)

# Tidiness, in CI (~5 s with a warm module cache and build/tools; on a fresh
# clone `make tools` builds buf once, ~5 min on 2 cores, which proto-check then
# reuses):
#  - `go mod tidy -diff` for the app, tools/ and tests/systemtests/: prints what tidy would
#    change in go.mod/go.sum and fails; it never writes them. Fix: `go mod tidy`
#    in that directory. Needs no @latest or version-list query to the proxy.
#  - `buf lint` of proto/ (STANDARD + COMMENTS; the exceptions and why are in
#    buf.yaml), local inputs only: buf.yaml's workspace with the third-party
#    protos staged into .proto-deps by scripts/protocgen.sh, as proto-gen does.
# `buf breaking` against the previous release tag is added here once a tag
# exists; the way to run it is in docs/protobuf.md.
# Both checks always run, so one CI log shows every failure.
tidy-check: tools
	@rc=0; \
	for dir in . tools tests/systemtests; do \
	  echo "go mod tidy -diff ($$dir)"; \
	  if ! (cd "$$dir" && go mod tidy -diff); then \
	    echo "tidy-check: $$dir/go.mod or $$dir/go.sum is not tidy: run 'go mod tidy' in $$dir and commit the result." >&2; \
	    rc=1; \
	  fi; \
	done; \
	scripts/protocgen.sh deps-only; \
	echo "buf lint (proto/, rules in buf.yaml)"; \
	if ! $(TOOLSDIR)/buf lint; then \
	  echo "tidy-check: buf lint failed: fix the proto/ file (or, for a rule that would need a rename, see buf.yaml)." >&2; \
	  rc=1; \
	fi; \
	if [ "$$rc" = 0 ]; then echo "tidy-check: go.mod/go.sum tidy (app, tools, tests/systemtests), buf lint clean"; fi; \
	exit $$rc

###############################################################################
###                                Protobuf                                 ###
###############################################################################

# buf and the protoc plugins are pinned in tools/go.mod and built from source
# through the Go module proxy; `go install` is a no-op when they are up to date.
tools:
	cd tools && GOBIN=$(TOOLSDIR) go install tool

proto-gen: tools
	scripts/protocgen.sh

# Generates into a temporary directory and compares with the working tree:
# every generated file must be present and identical, and every *.pb.go /
# *.pb.gw.go in the tree must still come from a .proto file.
proto-check: tools
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	scripts/protocgen.sh "$$tmp/gen" >/dev/null; \
	list_generated() { find "$$1" \( -path "$$1/.git" -o -path "$$1/build" -o -path "$$1/.proto-deps" \
	    -o -path "$$1/.localnet" -o -path "$$1/tools" \) -prune \
	    -o -type f \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -print | sed "s|^$$1/||" | LC_ALL=C sort; }; \
	list_generated "$$tmp/gen" > "$$tmp/want"; \
	list_generated "$(CURDIR)" > "$$tmp/have"; \
	missing=$$(LC_ALL=C comm -23 "$$tmp/want" "$$tmp/have"); \
	stale=$$(LC_ALL=C comm -13 "$$tmp/want" "$$tmp/have"); \
	changed=$$(LC_ALL=C comm -12 "$$tmp/want" "$$tmp/have" | while read -r f; do \
	    cmp -s "$$tmp/gen/$$f" "$(CURDIR)/$$f" || echo "$$f"; done); \
	if [ -z "$$missing$$stale$$changed" ]; then \
	  echo "proto-check: generated code is up to date ($$(wc -l < "$$tmp/want") files)"; exit 0; \
	fi; \
	echo "proto-check: the generated code does not match proto/." >&2; \
	if [ -n "$$changed" ]; then \
	  echo "  differs from what proto/ generates:" >&2; echo "$$changed" | sed 's/^/    /' >&2; \
	  for f in $$changed; do diff -u "$$f" "$$tmp/gen/$$f" --label "$$f (committed)" --label "$$f (generated)" \
	    | head -n 20 | sed 's/^/      /' >&2 || true; done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "  generated from proto/ but missing from the tree:" >&2; echo "$$missing" | sed 's/^/    /' >&2; \
	fi; \
	if [ -n "$$stale" ]; then \
	  echo "  in the tree but no .proto generates them any more (delete them):" >&2; \
	  echo "$$stale" | sed 's/^/    /' >&2; \
	fi; \
	echo "Run 'make proto-gen', remove stale files, and commit the result." >&2; \
	exit 1

###############################################################################
###                          Demo and local network                         ###
###############################################################################

demo:
	scripts/demo.sh

localnet-start: build
	LOCALNET_NODES=$(LOCALNET_NODES) scripts/localnet.sh start

localnet-stop:
	scripts/localnet.sh stop

clean:
	rm -rf $(BUILDDIR) .proto-deps

###############################################################################
###                              Load benchmark                             ###
###############################################################################

# A single-node chain loaded by cmd/repshard-load (pre-signed txs, CometBFT
# broadcast_tx_sync at fixed offered rates): bank MsgSend, then
# MsgSubmitRequest, then a mix; LOAD_RATES, LOAD_DURATION, LOAD_ACCOUNTS.
bench-load:
	scripts/bench-load.sh

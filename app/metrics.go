package app

import (
	"context"
	"maps"
	"slices"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/hashicorp/go-metrics"

	storetypes "cosmossdk.io/store/types"

	"github.com/cosmos/cosmos-sdk/telemetry"

	"github.com/repshard/repshard/internal/nodemetrics"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// Request lifecycle counters, counted from the committed events of each block
// (blockMetrics): repshard_deferral_<name>.
var (
	keyRequestsSubmitted   = []string{nodemetrics.Prefix, "deferral", "requests", "submitted"}
	keyRequestsDeferred    = []string{nodemetrics.Prefix, "deferral", "requests", "deferred"}
	keyRequestsRequeued    = []string{nodemetrics.Prefix, "deferral", "requests", "requeued"}
	keyRequestsAssigned    = []string{nodemetrics.Prefix, "deferral", "requests", "assigned"}
	keyRequestsCompleted   = []string{nodemetrics.Prefix, "deferral", "requests", "completed"}
	keyRequestsFailed      = []string{nodemetrics.Prefix, "deferral", "requests", "failed"}
	keyRequestsExpired     = []string{nodemetrics.Prefix, "deferral", "requests", "expired"}
	keyRequestsCancelled   = []string{nodemetrics.Prefix, "deferral", "requests", "cancelled"}
	keyAssignmentsExpired  = []string{nodemetrics.Prefix, "deferral", "assignments", "expired"}
	keyItemFailures        = []string{nodemetrics.Prefix, "endblock", "item", "failures"}
	keyWorkersPaused       = []string{nodemetrics.Prefix, "reputation", "workers", "paused"}
	keyWorkersUnresponsive = []string{nodemetrics.Prefix, "reputation", "workers", "unresponsive"}
	keyEpochsClosed        = []string{nodemetrics.Prefix, "rewards", "epochs", "closed"}
	eventRequestSubmitted  = proto.MessageName(&deferraltypes.EventRequestSubmitted{})
	eventRequestDeferred   = proto.MessageName(&deferraltypes.EventRequestDeferred{})
	eventRequestAssigned   = proto.MessageName(&deferraltypes.EventRequestAssigned{})
	eventRequestCompleted  = proto.MessageName(&deferraltypes.EventRequestCompleted{})
	eventRequestFailed     = proto.MessageName(&deferraltypes.EventRequestFailed{})
	eventRequestExpired    = proto.MessageName(&deferraltypes.EventRequestExpired{})
	eventRequestCancelled  = proto.MessageName(&deferraltypes.EventRequestCancelled{})
	eventAssignmentExpired = proto.MessageName(&deferraltypes.EventAssignmentExpired{})
	eventEndBlockItemFail  = proto.MessageName(&deferraltypes.EventEndBlockItemFailed{})
	eventTopologyItemFail  = proto.MessageName(&shardtypes.EventTopologyItemFailed{})
	eventBondReleaseFail   = proto.MessageName(&shardtypes.EventBondReleaseFailed{})
	eventEpochCloseFail    = proto.MessageName(&rewardstypes.EventEpochCloseFailed{})
	eventWorkerResumeFail  = proto.MessageName(&reputationtypes.EventWorkerResumeFailed{})
	eventWorkerPaused      = proto.MessageName(&reputationtypes.EventWorkerPaused{})
	eventWorkerUnresponsiv = proto.MessageName(&reputationtypes.EventWorkerUnresponsive{})
	eventEpochClosed       = proto.MessageName(&rewardstypes.EventEpochClosed{})
)

// blockMetrics counts the request lifecycle of each block from the events
// FinalizeBlock returns: those of the block's successful transactions and of
// its Begin/EndBlock. Counting committed events, not calls in the handlers,
// means a simulation, a transaction that fails after its handler ran, and an
// EndBlock item that is rolled back are never counted, and no handler
// spends gas or reads state for it. It is an ABCI listener of the BaseApp's
// streaming manager; it does nothing when telemetry is off.
type blockMetrics struct{}

var _ storetypes.ABCIListener = blockMetrics{}

// addBlockMetrics appends blockMetrics to the BaseApp's ABCI listeners.
func addBlockMetrics(app *App) {
	sm := app.StreamingManager()
	sm.ABCIListeners = append(slices.Clone(sm.ABCIListeners), blockMetrics{})
	app.SetStreamingManager(sm)
}

// ListenFinalizeBlock counts the block's events.
func (blockMetrics) ListenFinalizeBlock(_ context.Context, _ abci.RequestFinalizeBlock, res abci.ResponseFinalizeBlock) error {
	if !nodemetrics.Enabled() {
		return nil
	}
	var c blockCounts
	for _, tx := range res.TxResults {
		if tx != nil && tx.Code == 0 {
			c.add(tx.Events)
		}
	}
	c.add(res.Events)
	c.emit()
	return nil
}

// ListenCommit does nothing.
func (blockMetrics) ListenCommit(context.Context, abci.ResponseCommit, []*storetypes.StoreKVPair) error {
	return nil
}

// labelled counts events by a label set, written "name=value,name=value".
type labelled map[string]uint64

// blockCounts are one block's counts.
type blockCounts struct {
	submitted, completed, failed, expired, cancelled, assignmentsExpired uint64
	workersPaused, workersUnresponsive, epochsClosed                     uint64
	assigned, deferred, requeued, itemFailures                           labelled
}

func (l *labelled) incr(labels ...string) {
	if *l == nil {
		*l = labelled{}
	}
	(*l)[strings.Join(labels, ",")]++
}

// add counts the events of one transaction or of the block.
func (c *blockCounts) add(events []abci.Event) {
	for _, ev := range events {
		switch ev.Type {
		case eventRequestSubmitted:
			c.submitted++
		case eventRequestDeferred:
			shard := nodemetrics.LabelShard + "=" + attr(ev, "shard_id")
			if attr(ev, "requeued") == "true" {
				c.requeued.incr(shard)
			} else {
				c.deferred.incr(shard, "reason="+attr(ev, "reason"))
			}
		case eventRequestAssigned:
			c.assigned.incr(nodemetrics.LabelShard + "=" + attr(ev, "shard_id"))
		case eventRequestCompleted:
			c.completed++
		case eventRequestFailed:
			c.failed++
		case eventRequestExpired:
			c.expired++
		case eventRequestCancelled:
			c.cancelled++
		case eventAssignmentExpired:
			c.assignmentsExpired++
		case eventWorkerPaused:
			c.workersPaused++
		case eventWorkerUnresponsiv:
			c.workersUnresponsive++
		case eventEpochClosed:
			c.epochsClosed++
		case eventEndBlockItemFail:
			c.itemFailures.incr("module="+deferraltypes.ModuleName, "step="+attr(ev, "step"))
		case eventTopologyItemFail:
			c.itemFailures.incr("module="+shardtypes.ModuleName, "step=topology")
		case eventBondReleaseFail:
			c.itemFailures.incr("module="+shardtypes.ModuleName, "step=bond_release")
		case eventEpochCloseFail:
			c.itemFailures.incr("module="+rewardstypes.ModuleName, "step=epoch_close")
		case eventWorkerResumeFail:
			c.itemFailures.incr("module="+reputationtypes.ModuleName, "step=worker_resume")
		}
	}
}

// emit adds the block's counts to the counters.
func (c *blockCounts) emit() {
	nodemetrics.IncrCounter(keyRequestsSubmitted, c.submitted)
	nodemetrics.IncrCounter(keyRequestsCompleted, c.completed)
	nodemetrics.IncrCounter(keyRequestsFailed, c.failed)
	nodemetrics.IncrCounter(keyRequestsExpired, c.expired)
	nodemetrics.IncrCounter(keyRequestsCancelled, c.cancelled)
	nodemetrics.IncrCounter(keyAssignmentsExpired, c.assignmentsExpired)
	nodemetrics.IncrCounter(keyWorkersPaused, c.workersPaused)
	nodemetrics.IncrCounter(keyWorkersUnresponsive, c.workersUnresponsive)
	nodemetrics.IncrCounter(keyEpochsClosed, c.epochsClosed)
	c.assigned.emit(keyRequestsAssigned)
	c.deferred.emit(keyRequestsDeferred)
	c.requeued.emit(keyRequestsRequeued)
	c.itemFailures.emit(keyItemFailures)
}

// emit adds each label set's count to the counter key, in label order.
func (l labelled) emit(key []string) {
	for _, set := range slices.Sorted(maps.Keys(l)) {
		var labels []metrics.Label
		for _, kv := range strings.Split(set, ",") {
			name, value, _ := strings.Cut(kv, "=")
			labels = append(labels, telemetry.NewLabel(name, value))
		}
		nodemetrics.IncrCounter(key, l[set], labels...)
	}
}

// attr is the value of an event attribute, without the JSON quotes a typed
// event puts around strings and 64-bit integers ("" when it is missing).
func attr(ev abci.Event, key string) string {
	for _, a := range ev.Attributes {
		if a.Key == key {
			return strings.Trim(a.Value, `"`)
		}
	}
	return ""
}

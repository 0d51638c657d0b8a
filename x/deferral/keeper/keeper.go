package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"
	"cosmossdk.io/log"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/addrmemo"
	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/deferral/types"
)

// Keeper keeps request records and the per-shard queues in consensus state.
//
// Requests is an IndexedMap: its plain multi-indexes (by requester, by
// shard: one entry per record, whatever its status) are kept by the map
// itself on every Set and Remove. The other indexes depend on the status or
// the assignment and are key sets kept in step with Requests by saveRequest
// (indexes.go). Heights are stored as uint64 so keys sort in height order.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService storetypes.KVStoreService
	addressCodec address.Codec
	authority    string
	reputation   types.ReputationKeeper
	shards       types.ShardKeeper
	rewards      types.RewardsKeeper

	Schema collections.Schema
	Params collections.Item[types.Params]

	// Requests are the records, by id, with their multi-indexes
	// (Requests.Indexes); RequestSeq gives the next id.
	Requests   *collections.IndexedMap[uint64, types.Request, RequestIndexes]
	RequestSeq collections.Sequence
	// records is Requests' map of records without its indexes (the same
	// prefix and codecs), for save, which keeps the indexes itself.
	records collections.Map[uint64, types.Request]
	// ByRequester and ByShard read the entries of Requests.Indexes.Requester
	// and Requests.Indexes.Shard, for the paginated queries (read only: the
	// IndexedMap writes them).
	ByRequester collections.KeySet[collections.Pair[sdk.AccAddress, uint64]]
	ByShard     collections.KeySet[collections.Pair[uint64, uint64]]
	// ByWorker indexes the records that have a worker (current and finished
	// assignments), for queries. Queries by status read the queue, deadline
	// and finished indexes.
	ByWorker collections.KeySet[collections.Pair[sdk.AccAddress, uint64]]
	// Queue holds the QUEUED requests as (shard, due height, id): the
	// per-shard priority queue, earliest due first.
	Queue collections.KeySet[collections.Triple[uint64, uint64, uint64]]
	// Deadlines holds the ASSIGNED requests as (deadline height, id).
	Deadlines collections.KeySet[collections.Pair[uint64, uint64]]
	// QueueExpiries holds the QUEUED requests as (expiry height, id).
	QueueExpiries collections.KeySet[collections.Pair[uint64, uint64]]
	// Finished holds the finished requests as (finish height, id), for pruning.
	Finished collections.KeySet[collections.Pair[uint64, uint64]]
	// OpenRequests counts each requester's QUEUED and ASSIGNED requests.
	OpenRequests collections.Map[sdk.AccAddress, uint64]
	// DrainCursor is the shard the next drain starts from (round robin).
	DrainCursor collections.Item[uint64]
	// Quarantine holds the failure counts of EndBlock items that keep
	// failing and the items quarantined (quarantine.go).
	ItemQuarantine quarantine.Store
	// ResultDelegates holds each requester's result delegate: the account
	// the workers' data-plane endpoints serve its results to besides itself.
	ResultDelegates collections.Map[sdk.AccAddress, []byte]
}

// NewKeeper builds the x/deferral keeper. authority is the account allowed
// to change params (the gov module account); it must be a valid address.
func NewKeeper(
	cdc codec.BinaryCodec, storeService storetypes.KVStoreService, addressCodec address.Codec, authority string,
	reputation types.ReputationKeeper, shards types.ShardKeeper, rewards types.RewardsKeeper,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Sprintf("x/%s: invalid authority address %q: %v", types.ModuleName, authority, err))
	}
	// The records hold addresses as strings; the drain decodes the same
	// requesters and workers over and over.
	addressCodec = addrmemo.New(addressCodec)
	sb := collections.NewSchemaBuilder(storeService)
	u64pair := collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		authority:    authority,
		reputation:   reputation,
		shards:       shards,
		rewards:      rewards,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Requests: collections.NewIndexedMap(sb, types.RequestsKey, "requests", collections.Uint64Key,
			codec.CollValue[types.Request](cdc), newRequestIndexes(sb, addressCodec)),
		RequestSeq:  collections.NewSequence(sb, types.RequestSeqKey, "request_seq"),
		ByRequester: indexView(storeService, types.ByRequesterKey, "by_requester", requesterIndexCodec),
		ByShard:     indexView(storeService, types.ByShardKey, "by_shard", shardIndexCodec),
		ByWorker: collections.NewKeySet(sb, types.ByWorkerKey, "by_worker",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.Uint64Key)),
		Queue: collections.NewKeySet(sb, types.QueueKey, "queue",
			collections.TripleKeyCodec(collections.Uint64Key, collections.Uint64Key, collections.Uint64Key)),
		Deadlines:     collections.NewKeySet(sb, types.DeadlinesKey, "deadlines", u64pair),
		QueueExpiries: collections.NewKeySet(sb, types.QueueExpiriesKey, "queue_expiries", u64pair),
		Finished:      collections.NewKeySet(sb, types.FinishedKey, "finished", u64pair),
		OpenRequests: collections.NewMap(sb, types.OpenRequestsKey, "open_requests", sdk.AccAddressKey,
			collections.Uint64Value),
		DrainCursor:    collections.NewItem(sb, types.DrainCursorKey, "drain_cursor", collections.Uint64Value),
		ItemQuarantine: quarantine.NewStore(sb, types.ItemFailuresKey, types.QuarantinedItemsKey, cdc, types.ModuleName),
		ResultDelegates: collections.NewMap(sb, types.ResultDelegatesKey, "result_delegates", sdk.AccAddressKey,
			collections.BytesValue),
		// Its own schema builder, never built: the prefix is Requests'.
		records: collections.NewMap(collections.NewSchemaBuilder(storeService), types.RequestsKey, "requests",
			collections.Uint64Key, codec.CollValue[types.Request](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the address allowed to change params.
func (k Keeper) Authority() string { return k.authority }

// ReputationKeeper returns the x/reputation keeper the module was built with.
// The app simulation reads x/reputation's proof-of-work params through it to
// build MsgSubmitRequest proofs.
func (k Keeper) ReputationKeeper() types.ReputationKeeper { return k.reputation }

func (k Keeper) logger(ctx sdk.Context) log.Logger {
	return ctx.Logger().With("module", "x/"+types.ModuleName)
}

// GetParams returns the current params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

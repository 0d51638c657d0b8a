package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/reputation/types"
)

// Keeper keeps requester reputation in consensus state.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService storetypes.KVStoreService
	addressCodec address.Codec
	authority    string

	// staking reads bonded stake (the stake credit); bonds reads worker
	// bonds (the weight of a review). Both are given at construction.
	staking types.StakingKeeper
	bonds   types.WorkerBondReader
	// standing is told every worker's score and eligibility at each write of
	// its worker profile (x/shard, which orders and gates assignment by it).
	standing types.WorkerStandingListener
	// requests reads finished requests for reviews. x/deferral calls
	// x/reputation, so the reader is registered once after both keepers
	// exist (SetRequestReader). A pointer, so every copy of the keeper
	// (x/deferral holds one) sees it.
	requests *requestReaderSlot

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Profiles: requester → profile, created at the first submission.
	Profiles collections.Map[sdk.AccAddress, types.Profile]
	// Reviews: request id → the review of that request (at most one).
	Reviews collections.Map[uint64, types.Review]
	// ScoreIndex orders profiles by indexed score, highest first:
	// (MaxUint32 − indexed_score, requester). Kept in step with every profile
	// write.
	ScoreIndex collections.KeySet[collections.Pair[uint32, sdk.AccAddress]]

	// WorkerProfiles: worker → worker profile, created at the worker's first
	// outcome or rating.
	WorkerProfiles collections.Map[sdk.AccAddress, types.WorkerProfile]
	// WorkerScoreIndex orders worker profiles by indexed score, highest
	// first: (MaxUint32 − indexed_score, worker). Kept in step with every
	// worker profile write.
	WorkerScoreIndex collections.KeySet[collections.Pair[uint32, sdk.AccAddress]]
	// WorkerRatings: request id → the requester's rating of its worker (at
	// most one).
	WorkerRatings collections.Map[uint64, types.WorkerRating]
	// WorkerResumeQueue holds (resume height, worker) of every paused worker;
	// the EndBlock checks the due ones again.
	WorkerResumeQueue collections.KeySet[collections.Pair[int64, sdk.AccAddress]]
	// ItemQuarantine holds the failure counts of EndBlock items that keep
	// failing and the items quarantined (quarantine.go).
	ItemQuarantine quarantine.Store
}

type requestReaderSlot struct{ reader types.RequestReader }

// SetRequestReader registers the reader of finished requests (x/deferral,
// through an adapter in app.go). It must be called exactly once, at wiring,
// before the first block: it panics on nil or on a second call.
func (k Keeper) SetRequestReader(r types.RequestReader) {
	if r == nil {
		panic(fmt.Sprintf("x/%s: SetRequestReader(nil)", types.ModuleName))
	}
	if k.requests.reader != nil {
		panic(fmt.Sprintf("x/%s: the request reader is already set", types.ModuleName))
	}
	k.requests.reader = r
}

// NewKeeper builds the x/reputation keeper. authority is the account allowed
// to change params (the gov module account); it must be a valid address.
// staking (bonded stake, read-only), bonds (worker bonds, read-only) and
// standing (told each worker's score and eligibility: x/shard) must not be nil.
func NewKeeper(cdc codec.BinaryCodec, storeService storetypes.KVStoreService, addressCodec address.Codec, authority string,
	staking types.StakingKeeper, bonds types.WorkerBondReader, standing types.WorkerStandingListener,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Sprintf("x/%s: invalid authority address %q: %v", types.ModuleName, authority, err))
	}
	if staking == nil || bonds == nil || standing == nil {
		panic(fmt.Sprintf("x/%s: NewKeeper needs a staking keeper, a worker bond reader and a worker standing listener", types.ModuleName))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		authority:    authority,
		staking:      staking,
		bonds:        bonds,
		standing:     standing,
		requests:     &requestReaderSlot{},
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Profiles:     collections.NewMap(sb, types.ProfilesKey, "profiles", sdk.AccAddressKey, codec.CollValue[types.Profile](cdc)),
		Reviews:      collections.NewMap(sb, types.ReviewsKey, "reviews", collections.Uint64Key, codec.CollValue[types.Review](cdc)),
		ScoreIndex: collections.NewKeySet(sb, types.ScoreIndexKey, "score_index",
			collections.PairKeyCodec(collections.Uint32Key, sdk.AccAddressKey)),
		WorkerProfiles: collections.NewMap(sb, types.WorkerProfilesKey, "worker_profiles",
			sdk.AccAddressKey, codec.CollValue[types.WorkerProfile](cdc)),
		WorkerScoreIndex: collections.NewKeySet(sb, types.WorkerScoreIndexKey, "worker_score_index",
			collections.PairKeyCodec(collections.Uint32Key, sdk.AccAddressKey)),
		WorkerRatings: collections.NewMap(sb, types.WorkerRatingsKey, "worker_ratings",
			collections.Uint64Key, codec.CollValue[types.WorkerRating](cdc)),
		WorkerResumeQueue: collections.NewKeySet(sb, types.WorkerResumeQueueKey, "worker_resume_queue",
			collections.PairKeyCodec(collections.Int64Key, sdk.AccAddressKey)),
		ItemQuarantine: quarantine.NewStore(sb, types.ItemFailuresKey, types.QuarantinedItemsKey, cdc, types.ModuleName),
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

// ReadRequest reads a request through the registered RequestReader (false
// when none is registered or the request does not exist); the simulation
// uses it to find requests to rate.
func (k Keeper) ReadRequest(ctx context.Context, requestID uint64) (types.FinishedRequest, bool, error) {
	if k.requests.reader == nil {
		return types.FinishedRequest{}, false, nil
	}
	return k.requests.reader.ReviewableRequest(ctx, requestID)
}

// GetParams returns the current params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

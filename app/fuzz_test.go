package app_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	storetypes "cosmossdk.io/store/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// fuzzGasLimit bounds the gas one msg may use; a msg that needs more (or
// runs out) fails the fuzz test.
const fuzzGasLimit = 3_000_000

// fuzzBase is a committed chain the fuzz targets start every input from: a
// registered worker with one request in flight, a queued request from
// another requester, and funded accounts. It is built once per process.
type fuzzBase struct {
	chain    *apptest.Chain
	accounts []string
	// before is the repshard stores and module balances of the base state.
	before fuzzState
	// txs are real signed txs carrying each custom msg (the decode corpus).
	txs map[string][]byte
}

type fuzzState struct {
	stores   map[string][]apptest.KV
	balances map[string]sdk.Coins
}

var (
	fuzzOnce sync.Once
	fuzzB    *fuzzBase
)

func moduleAccounts(a *app.App) []sdk.AccAddress {
	return []sdk.AccAddress{
		a.AccountKeeper.GetModuleAddress(shardtypes.ModuleName),
		a.AccountKeeper.GetModuleAddress(rewardstypes.ModuleName),
		a.AccountKeeper.GetModuleAddress(rewardstypes.EscrowAccountName),
	}
}

func snapshot(c *apptest.Chain, ctx sdk.Context) fuzzState {
	return fuzzState{stores: c.DumpRepshardStores(ctx), balances: c.Balances(ctx, moduleAccounts(c.App)...)}
}

func newFuzzBase(t testing.TB) *fuzzBase {
	c := apptest.New(t, 4, nil)
	worker, requester, other := c.Accounts[0], c.Accounts[1], c.Accounts[2]
	shardParams, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	// The max fee is the fee at x/shard's price ceiling, which no
	// normal-urgency fee exceeds: shard 1's price leaves the floor once the
	// 50-unit request waits (load above the 50% target). The fees by hand:
	// 5 × 1_000 and 50 × 1_000 at the floor, then 4 × 1_265 after two rises
	// (1_000 + ⌊1_000 · 0.125⌋ = 1_125, 1_125 + ⌊1_125 · 0.125⌋ = 1_265).
	ceiling := shardtypes.DefaultParams().PriceCeiling
	submit := func(from apptest.Account, units uint64) *deferraltypes.MsgSubmitRequest {
		sum := sha256.Sum256([]byte(from.Address.String()))
		return &deferraltypes.MsgSubmitRequest{
			Requester: from.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyNormal,
			ComputeUnits: units, PayloadHash: sum[:], PayloadUri: "ipfs://x",
			MaxFee: sdk.NewCoin(ceiling.Denom, ceiling.Amount.MulRaw(int64(units))),
		}
	}
	msgs := map[string]struct {
		from apptest.Account
		msg  sdk.Msg
	}{
		"register_worker": {worker, &shardtypes.MsgRegisterWorker{Worker: worker.Address.String(),
			Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority}, CapacityUnits: 10, StorageBytes: 1 << 30, Bond: shardParams.MinWorkerBond}},
		"submit_assigned": {requester, submit(requester, 5)},
		"submit_queued":   {other, submit(other, 50)},
		"complete_first": {worker, &deferraltypes.MsgCompleteRequest{Worker: worker.Address.String(), RequestId: 1,
			ResultHash: make([]byte, 32)}},
		"submit_assigned_again": {requester, submit(requester, 4)},
	}
	b := &fuzzBase{chain: c, txs: map[string][]byte{}}
	// Request 1 completed (reviewable), 2 queued, 3 assigned.
	for _, name := range []string{"register_worker", "submit_assigned", "submit_queued", "complete_first", "submit_assigned_again"} {
		tx := c.SignTx(t, msgs[name].from, msgs[name].msg)
		b.txs[name] = tx
		for _, res := range c.NextBlock(t, tx) {
			require.Zero(t, res.Code, res.Log)
		}
	}
	// More signed txs for the decode corpus, not delivered.
	sum := sha256.Sum256([]byte("result"))
	for name, m := range map[string]struct {
		from apptest.Account
		msg  sdk.Msg
	}{
		"update_worker":     {worker, &shardtypes.MsgUpdateWorker{Worker: worker.Address.String(), CapacityUnits: 20}},
		"unregister_worker": {worker, &shardtypes.MsgUnregisterWorker{Worker: worker.Address.String()}},
		"complete_request":  {worker, &deferraltypes.MsgCompleteRequest{Worker: worker.Address.String(), RequestId: 1, ResultHash: sum[:]}},
		"fail_request":      {worker, &deferraltypes.MsgFailRequest{Worker: worker.Address.String(), RequestId: 1, Reason: "oom"}},
		"cancel_request":    {other, &deferraltypes.MsgCancelRequest{Requester: other.Address.String(), RequestId: 2}},
		"claim_rewards":     {worker, &rewardstypes.MsgClaimRewards{Worker: worker.Address.String()}},
		"submit_review":     {worker, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: 1, Rating: 4}},
		"fund_pool":         {other, &rewardstypes.MsgFundPool{Funder: other.Address.String(), Amount: sdk.NewInt64Coin(chaincfg.BondDenom, 1_000)}},
		"update_params":     {other, &deferraltypes.MsgUpdateParams{Authority: deferraltypes.GovAuthority(), Params: deferraltypes.DefaultParams()}},
	} {
		b.txs[name] = c.SignTx(t, m.from, m.msg)
	}
	for _, a := range c.Accounts {
		b.accounts = append(b.accounts, a.Address.String())
	}
	b.before = snapshot(c, c.Committed())
	return b
}

func getFuzzBase(t testing.TB) *fuzzBase {
	fuzzOnce.Do(func() { fuzzB = newFuzzBase(t) })
	return fuzzB
}

// fuzzMsg builds one msg of a custom type from the fuzz inputs: kind picks
// the type, the other inputs fill its fields, unchecked.
func fuzzMsg(b *fuzzBase, kind, signer uint8, id, units uint64, amount int64, data []byte, text string) sdk.Msg {
	addr := text
	if int(signer) < 4*len(b.accounts) {
		addr = b.accounts[int(signer)%len(b.accounts)]
	}
	coin := sdk.Coin{Denom: chaincfg.BondDenom, Amount: sdkmath.NewInt(amount)}
	if signer%7 == 6 {
		coin.Denom = text
	}
	if id < 8 { // mostly aim at the requests that exist
		id %= 4
	}
	var classes []shardtypes.ShardClass
	for _, c := range data {
		classes = append(classes, shardtypes.ShardClass(int32(c%7)-1))
	}
	pick := func(d []byte, i int) byte {
		if len(d) > i {
			return d[i]
		}
		return 0
	}
	gov := deferraltypes.GovAuthority()
	authority := addr
	if signer%2 == 0 {
		authority = gov
	}
	switch kind % 14 {
	case 0:
		return &shardtypes.MsgRegisterWorker{Worker: addr, Classes: classes, CapacityUnits: units, StorageBytes: id, Bond: coin}
	case 1:
		return &shardtypes.MsgUpdateWorker{Worker: addr, CapacityUnits: units, StorageBytes: id}
	case 2:
		return &shardtypes.MsgUnregisterWorker{Worker: addr}
	case 3:
		m := &deferraltypes.MsgSubmitRequest{
			Requester: addr, Class: shardtypes.ShardClass(int32(pick(data, 0)%7) - 1),
			Urgency: deferraltypes.Urgency(int32(pick(data, 1)%7) - 1), ComputeUnits: units,
			PayloadUri: text, DataBytes: id, MaxFee: coin,
		}
		if signer%3 == 0 {
			m.PowNonce = []byte(text)
		}
		if len(data) > 2 {
			switch data[2] % 3 {
			case 0:
				m.Payload = data[3:]
			case 1:
				m.PayloadHash = data[3:]
			default:
				sum := sha256.Sum256(data[3:])
				m.Payload, m.PayloadHash = data[3:], sum[:]
			}
		}
		return m
	case 4:
		return &deferraltypes.MsgCompleteRequest{Worker: addr, RequestId: id, ResultHash: data}
	case 5:
		return &deferraltypes.MsgFailRequest{Worker: addr, RequestId: id, Reason: text}
	case 6:
		return &deferraltypes.MsgCancelRequest{Requester: addr, RequestId: id}
	case 7:
		return &rewardstypes.MsgClaimRewards{Worker: addr}
	case 8:
		p := shardtypes.DefaultParams()
		p.MinWorkerBond, p.UnbondingPeriodBlocks, p.MaxWorkersPerShard = coin, id, uint32(units)
		p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = uint32(units>>32), uint32(id>>32)
		return &shardtypes.MsgUpdateParams{Authority: authority, Params: p}
	case 9:
		p := deferraltypes.DefaultParams()
		p.MaxComputeUnits, p.QueueTtlBlocks, p.MaxWaitBlocks = units, id, uint64(pick(data, 0))
		p.PricePerDataMegabyte, p.MaxAssignmentsPerBlock = coin, uint32(units>>32)
		p.MaxInlinePayloadBytes, p.GasPerDrain = uint32(id>>32), uint64(amount)
		return &deferraltypes.MsgUpdateParams{Authority: authority, Params: p}
	case 10:
		p := reputationtypes.DefaultParams()
		p.DefaultScorePpm, p.WeightCompletion, p.RateWindowBlocks = uint32(units), uint32(units>>32), id
		p.PowMinDifficultyBits, p.StakeReferenceAmount = uint32(pick(data, 0)), sdkmath.NewInt(amount)
		return &reputationtypes.MsgUpdateParams{Authority: authority, Params: p}
	case 12:
		return &reputationtypes.MsgSubmitReview{Reviewer: addr, RequestId: id, Rating: uint32(units)}
	case 13:
		return &rewardstypes.MsgFundPool{Funder: addr, Amount: coin}
	default:
		p := rewardstypes.DefaultParams()
		p.ProtocolFeeSharePpm, p.EpochLengthBlocks, p.EpochEmissionFixed = uint32(units), id, coin
		p.EpochEmissionFractionPpm, p.FailureSlashMinAttempts = uint32(units>>32), uint64(amount)
		return &rewardstypes.MsgUpdateParams{Authority: authority, Params: p}
	}
}

// FuzzMsgServer sends one random msg of a custom type through the app's
// msg router on the base state, as baseapp runs it (ValidateBasic, then
// the handler on a cached store written only on success). It must not
// panic; it must use at most fuzzGasLimit gas; an error must be a
// registered (typed) error and leave the repshard stores and the module
// accounts' balances unchanged; a success must keep the chain's invariants (docs/architecture.md).
func FuzzMsgServer(f *testing.F) {
	b := getFuzzBase(f)
	sum := sha256.Sum256([]byte("result"))
	for kind := range uint8(14) {
		f.Add(kind, uint8(0), uint64(1), uint64(5), int64(10_000_000), sum[:], "x")
		f.Add(kind, uint8(1), uint64(2), uint64(0), int64(-1), []byte{1, 2, 0, 'a'}, "rep1invalid")
		f.Add(kind, uint8(200), ^uint64(0), ^uint64(0), int64(1)<<62, []byte{}, "")
	}
	f.Fuzz(func(t *testing.T, kind, signer uint8, id, units uint64, amount int64, data []byte, text string) {
		msg := fuzzMsg(b, kind, signer, id, units, amount, data, text)
		ctx := b.chain.Branch(b.chain.App.LastBlockHeight() + 1).WithGasMeter(storetypes.NewGasMeter(fuzzGasLimit))
		err := deliverMsg(b.chain.App, ctx, msg)
		if err != nil {
			codespace, code, _ := errorsmod.ABCIInfo(err, false)
			require.NotEqual(t, errorsmod.UndefinedCodespace, codespace, "untyped error (code %d) for %T: %v", code, msg, err)
			after := snapshot(b.chain, ctx)
			require.Equal(t, b.before, after, "%T failed with %v but changed state", msg, err)
			return
		}
		require.NoError(t, b.chain.App.CheckInvariants(ctx), "invariants after %T %v", msg, msg)
	})
}

// deliverMsg runs msg as baseapp's runMsgs does and turns a panic into a
// test failure (an out-of-gas panic included).
func deliverMsg(a *app.App, ctx sdk.Context, msg sdk.Msg) (err error) {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Sprintf("%T panicked (gas used %d): %v", msg, ctx.GasMeter().GasConsumed(), r))
		}
	}()
	if vb, ok := msg.(sdk.HasValidateBasic); ok {
		if err := vb.ValidateBasic(); err != nil {
			return err
		}
	}
	handler := a.MsgServiceRouter().Handler(msg)
	if handler == nil {
		return fmt.Errorf("no handler for %T", msg)
	}
	cache := ctx.MultiStore().CacheMultiStore()
	if _, err := handler(ctx.WithMultiStore(cache), msg); err != nil {
		return err
	}
	cache.Write()
	return nil
}

// FuzzTxDecode decodes random bytes as a transaction, seeded with real
// signed txs carrying every custom msg. Decoding must not panic; a decoded
// tx must re-encode, and its msgs' ValidateBasic and signers must not panic.
func FuzzTxDecode(f *testing.F) {
	b := getFuzzBase(f)
	for _, name := range sortedKeys(b.txs) {
		f.Add(b.txs[name])
	}
	a := b.chain.App
	dec, enc := a.TxConfig().TxDecoder(), a.TxConfig().TxEncoder()
	f.Fuzz(func(t *testing.T, bz []byte) {
		tx, err := dec(bz)
		if err != nil {
			return
		}
		if _, err := enc(tx); err != nil {
			t.Fatalf("decoded tx does not re-encode: %v", err)
		}
		for _, msg := range tx.GetMsgs() {
			if vb, ok := msg.(sdk.HasValidateBasic); ok {
				_ = vb.ValidateBasic()
			}
			_, _, _ = a.AppCodec().GetMsgV1Signers(msg)
		}
	})
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestWriteFuzzCorpus writes the seed corpus of the fuzz targets under
// testdata/fuzz when REPSHARD_WRITE_FUZZ_CORPUS is set (the committed corpus
// was written so); otherwise it checks the committed corpus exists.
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzTxDecode")
	if os.Getenv("REPSHARD_WRITE_FUZZ_CORPUS") == "" {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err, "the seed corpus is committed")
		require.NotEmpty(t, entries)
		return
	}
	b := getFuzzBase(t)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, tx := range b.txs {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(tx)) + ")\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tx_"+name), []byte(body), 0o644))
	}
	msgDir := filepath.Join("testdata", "fuzz", "FuzzMsgServer")
	require.NoError(t, os.MkdirAll(msgDir, 0o755))
	sum := sha256.Sum256([]byte("result"))
	for kind := range 14 {
		body := fmt.Sprintf("go test fuzz v1\nbyte(%s)\nbyte('\\x00')\nuint64(1)\nuint64(5)\nint64(10000000)\n[]byte(%s)\nstring(\"x\")\n",
			strconv.QuoteRune(rune(kind)), strconv.Quote(string(sum[:])))
		require.NoError(t, os.WriteFile(filepath.Join(msgDir, fmt.Sprintf("msg_kind_%02d", kind)), []byte(body), 0o644))
	}
}

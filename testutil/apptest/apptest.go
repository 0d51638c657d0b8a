// Package apptest builds a whole repshard app in memory, initialised from a
// genesis with one bonded validator and funded accounts, and drives it block by
// block through the ABCI methods CometBFT calls. No network, no mocks of the
// app: the same app.New the node runs.
package apptest

import (
	"encoding/json"
	"testing"
	"time"

	"cosmossdk.io/log"
	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/cosmos/cosmos-sdk/testutil/mock"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
)

// Account is a funded genesis account with its key.
type Account struct {
	Key     *secp256k1.PrivKey
	Address sdk.AccAddress
}

// Chain is an in-memory app with the validator set it was started with.
type Chain struct {
	App      *app.App
	ValSet   *cmttypes.ValidatorSet
	Accounts []Account

	// pending counts the txs signed per account for the coming block.
	pending map[string]uint64
	// BlockEvents are the events of the last block outside its txs
	// (BeginBlock and EndBlock).
	BlockEvents []abci.Event
	// BlockInterval, when set, moves BlockTime on by that much before each
	// block, for tests that need time to pass (a governance vote); by
	// default every block has the zero time.
	BlockInterval time.Duration
	// BlockTime is the time of the last block.
	BlockTime time.Time
}

// New returns an app initialised from its default genesis (optionally edited
// by edit) with one validator and n funded accounts, after InitChain and a
// first committed block.
func New(t testing.TB, n int, edit func(app.GenesisState)) *Chain {
	t.Helper()
	return NewWithApp(t, NewApp(t), n, edit)
}

// NewWithApp is New on an app the caller built (e.g. with baseapp options
// such as a snapshot store); a must be fresh, before InitChain.
func NewWithApp(t testing.TB, a *app.App, n int, edit func(app.GenesisState)) *Chain {
	t.Helper()

	pv := mock.NewPV()
	pubKey, err := pv.GetPubKey()
	require.NoError(t, err)
	valSet := cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(pubKey, 1)})

	accounts := make([]Account, n)
	genAccs := make([]authtypes.GenesisAccount, n)
	balances := make([]banktypes.Balance, n)
	for i := range accounts {
		key := secp256k1.GenPrivKey()
		addr := sdk.AccAddress(key.PubKey().Address())
		accounts[i] = Account{Key: key, Address: addr}
		genAccs[i] = authtypes.NewBaseAccount(addr, key.PubKey(), uint64(i), 0)
		balances[i] = banktypes.Balance{
			Address: addr.String(),
			Coins:   sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1_000_000_000_000))),
		}
	}
	genesis, err := simtestutil.GenesisStateWithValSet(a.AppCodec(), a.DefaultGenesis(), valSet, genAccs, balances...)
	require.NoError(t, err)
	if edit != nil {
		edit(genesis)
	}
	c := &Chain{App: a, ValSet: valSet, Accounts: accounts}
	require.NoError(t, c.InitChain(genesis))
	c.NextBlock(t)
	return c
}

// NewApp returns a fresh, uninitialised app on an in-memory database.
func NewApp(t testing.TB) *app.App {
	t.Helper()
	return app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true,
		simtestutil.NewAppOptionsWithFlagHome(t.TempDir()), baseapp.SetChainID(chaincfg.DefaultChainID))
}

// InitChain runs ABCI InitChain with the given genesis.
func (c *Chain) InitChain(genesis app.GenesisState) error {
	stateBytes, err := json.Marshal(genesis)
	if err != nil {
		return err
	}
	_, err = c.App.InitChain(&abci.RequestInitChain{
		ChainId:         chaincfg.DefaultChainID,
		ConsensusParams: simtestutil.DefaultConsensusParams,
		AppStateBytes:   stateBytes,
	})
	return err
}

// NextBlock finalises and commits one block carrying txs, and returns the
// result of each tx.
func (c *Chain) NextBlock(t testing.TB, txs ...[]byte) []*abci.ExecTxResult {
	t.Helper()
	c.BlockTime = c.BlockTime.Add(c.BlockInterval)
	res, err := c.App.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height:             c.App.LastBlockHeight() + 1,
		Time:               c.BlockTime,
		Txs:                txs,
		NextValidatorsHash: c.ValSet.Hash(),
	})
	require.NoError(t, err)
	_, err = c.App.Commit()
	require.NoError(t, err)
	c.pending = nil
	c.BlockEvents = res.Events
	return res.TxResults
}

// Context returns a context on the last committed state (the check state:
// writes to it never reach the committed store).
func (c *Chain) Context() sdk.Context {
	return c.App.NewContextLegacy(true, cmtproto.Header{Height: c.App.LastBlockHeight(), ChainID: chaincfg.DefaultChainID})
}

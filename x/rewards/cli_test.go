package rewards_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	clitestutil "github.com/cosmos/cosmos-sdk/testutil/cli"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/cmd/repshardd/cmd"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/testnetwork"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	"github.com/repshard/repshard/x/rewards/types"
)

// The validator's key comes from this mnemonic so genesis can owe it rewards
// and give it a reputation profile before the network creates it.
const valMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	home := t.TempDir()
	root.SetArgs(append(args, "--home", home))
	err := svrcmd.Execute(root, "", home)
	return out.String(), err
}

func cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, err := cli(t, args...)
	require.NoError(t, err, out)
	require.NoError(t, json.Unmarshal([]byte(out), v), out)
}

// TestCLIContract runs the CLI contract lines of x/rewards and x/reputation
// against a real validator:
//
//	repshardd q reputation profile [address]      # -o json: profile.score and the factors
//	repshardd q rewards pending-rewards [address]
//	repshardd tx rewards claim-rewards
//	repshardd tx rewards fund-pool [amount]
//	repshardd q rewards pool
//	repshardd q rewards epoch
//	repshardd q rewards contribution [address]
func TestCLIContract(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	cfg, err := testnetwork.DefaultConfig(4 * time.Second)
	require.NoError(t, err)
	cfg.NumValidators = 1
	cfg.Mnemonics = []string{valMnemonic}

	kr := keyring.NewInMemory(cfg.Codec)
	rec, err := kr.NewAccount("val", valMnemonic, "", sdk.GetConfig().GetFullBIP44Path(), hd.Secp256k1)
	require.NoError(t, err)
	valAddr, err := rec.GetAddress()
	require.NoError(t, err)

	// Genesis: 1_234_567 urep owed to the validator (held by the rewards
	// account) and a profile with 2 completions and 1 failure.
	const owed = 1_234_567
	var rw types.GenesisState
	cfg.Codec.MustUnmarshalJSON(cfg.GenesisState[types.ModuleName], &rw)
	rw.Owed = []types.WorkerAmount{{Worker: valAddr.String(), Amount: sdkmath.NewInt(owed)}}
	cfg.GenesisState[types.ModuleName] = cfg.Codec.MustMarshalJSON(&rw)
	var bank banktypes.GenesisState
	cfg.Codec.MustUnmarshalJSON(cfg.GenesisState[banktypes.ModuleName], &bank)
	bank.Balances = append(bank.Balances, banktypes.Balance{
		Address: authtypes.NewModuleAddress(types.ModuleName).String(),
		Coins:   sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, owed)),
	})
	cfg.GenesisState[banktypes.ModuleName] = cfg.Codec.MustMarshalJSON(&bank)
	var rep reputationtypes.GenesisState
	cfg.Codec.MustUnmarshalJSON(cfg.GenesisState[reputationtypes.ModuleName], &rep)
	rep.Profiles = []reputationtypes.Profile{{
		Address: valAddr.String(), Submitted: 3, Completed: 2, Failed: 1,
		RateEma: 3_000_000, RateUpdatedHeight: 1, CreatedHeight: 1, LastUpdatedHeight: 1,
		PeerRatingSum: sdkmath.ZeroInt(), PeerRatingWeight: sdkmath.ZeroInt(),
	}}
	cfg.GenesisState[reputationtypes.ModuleName] = cfg.Codec.MustMarshalJSON(&rep)

	net, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	val := net.Validators[0]
	require.Equal(t, valAddr, val.Address)
	_, err = net.WaitForHeightWithTimeout(2, 30*time.Second)
	require.NoError(t, err)
	node := []string{"--node", val.RPCAddress, "-o", "json"}

	// q reputation profile: score and the factors behind it.
	var prof struct {
		Profile struct {
			Address       string `json:"address"`
			Score         uint32 `json:"score"`
			CompletionPpm uint32 `json:"completion_ppm"`
			FrequencyPpm  uint32 `json:"frequency_ppm"`
			ValidationPpm uint32 `json:"validation_ppm"`
			PeerPpm       uint32 `json:"peer_ppm"`
			Completed     string `json:"completed"`
			Failed        string `json:"failed"`
		} `json:"profile"`
	}
	cliJSON(t, &prof, append([]string{"q", "reputation", "profile", valAddr.String()}, node...)...)
	require.Equal(t, valAddr.String(), prof.Profile.Address)
	require.Equal(t, uint32(571_428), prof.Profile.CompletionPpm, "(2+2)/(3+4)")
	require.Equal(t, uint32(1_000_000), prof.Profile.FrequencyPpm)
	require.Equal(t, uint32(0), prof.Profile.ValidationPpm, "no proof of work, no stake credit recorded")
	require.Equal(t, uint32(500_000), prof.Profile.PeerPpm)
	require.Equal(t, uint32(535_714), prof.Profile.Score, "(8·571_428 + 2·1e6 + 2·0 + 4·5e5)/16")
	require.Equal(t, "2", prof.Profile.Completed)
	require.Equal(t, "1", prof.Profile.Failed)

	// The same over REST.
	resp, err := http.Get(val.APIAddress + "/repshard/reputation/v1/profiles/" + valAddr.String())
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"score":535714`)
	resp, err = http.Get(val.APIAddress + "/repshard/rewards/v1/pending/" + valAddr.String())
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"amount":"1234567"`)

	out, err := cli(t, append([]string{"q", "reputation", "profile", sdk.AccAddress(bytes.Repeat([]byte{3}, 20)).String()}, node...)...)
	require.Error(t, err, out)
	require.Contains(t, err.Error()+out, "no reputation profile")

	// q rewards pending-rewards
	type coin struct{ Denom, Amount string }
	var pending struct {
		Total        coin `json:"total"`
		Fees         coin `json:"fees"`
		EpochRewards coin `json:"epoch_rewards"`
		Slashed      coin `json:"slashed"`
	}
	cliJSON(t, &pending, append([]string{"q", "rewards", "pending-rewards", valAddr.String()}, node...)...)
	require.Equal(t, coin{"urep", "1234567"}, pending.Total)
	require.Equal(t, coin{"urep", "1234567"}, pending.Fees)
	require.Equal(t, coin{"urep", "0"}, pending.EpochRewards)
	require.Equal(t, coin{"urep", "0"}, pending.Slashed)

	balance := func() sdkmath.Int {
		var b struct{ Balance coin }
		cliJSON(t, &b, append([]string{"q", "bank", "balance", valAddr.String(), "urep"}, node...)...)
		n, ok := sdkmath.NewIntFromString(b.Balance.Amount)
		require.True(t, ok, b)
		return n
	}
	before := balance()

	// tx rewards claim-rewards
	txArgs := []string{"--from", "node0", "--keyring-backend", "test", "--keyring-dir", val.ClientCtx.KeyringDir,
		"--chain-id", cfg.ChainID, "--fees", "1000urep", "--yes", "--node", val.RPCAddress, "-o", "json"}
	var res struct {
		Code   uint32 `json:"code"`
		TxHash string `json:"txhash"`
	}
	cliJSON(t, &res, append([]string{"tx", "rewards", "claim-rewards"}, txArgs...)...)
	require.Zero(t, res.Code)
	require.NoError(t, net.WaitForNextBlock())
	require.NoError(t, net.WaitForNextBlock())
	require.Equal(t, before.AddRaw(owed-1000).String(), balance().String(), "paid what was owed, less the tx fee")
	cliJSON(t, &pending, append([]string{"q", "rewards", "pending-rewards", valAddr.String()}, node...)...)
	require.Equal(t, coin{"urep", "0"}, pending.Total)

	// Claiming again: the tx is included and fails with nothing to claim.
	cliJSON(t, &res, append([]string{"tx", "rewards", "claim-rewards"}, txArgs...)...)
	tx, err := clitestutil.GetTxResponse(net, val.ClientCtx, res.TxHash)
	require.NoError(t, err)
	require.Equal(t, types.ModuleName, tx.Codespace, tx.RawLog)
	require.Equal(t, types.ErrNothingToClaim.ABCICode(), tx.Code, tx.RawLog)
	require.Equal(t, before.AddRaw(owed-2000).String(), balance().String(), "only the fee of the failed claim")

	// tx rewards fund-pool: the pool and its book grow by the amount.
	cliJSON(t, &res, append([]string{"tx", "rewards", "fund-pool", "5000000urep"}, txArgs...)...)
	require.Zero(t, res.Code)
	require.NoError(t, net.WaitForNextBlock())
	require.NoError(t, net.WaitForNextBlock())
	tx, err = clitestutil.GetTxResponse(net, val.ClientCtx, res.TxHash)
	require.NoError(t, err)
	require.Zero(t, tx.Code, tx.RawLog)
	require.Equal(t, before.AddRaw(owed-3000-5_000_000).String(), balance().String(), "paid the amount and the fee")
	var pool struct {
		Pool   coin `json:"pool"`
		Ledger struct {
			Funded string `json:"funded"`
			Dust   string `json:"dust"`
		} `json:"ledger"`
	}
	cliJSON(t, &pool, append([]string{"q", "rewards", "pool"}, node...)...)
	require.Equal(t, coin{"urep", "5000000"}, pool.Pool, "no one contributed: the pool keeps it")
	require.Equal(t, "5000000", pool.Ledger.Funded)
	require.Equal(t, "0", pool.Ledger.Dust)

	// A wrong denom or a zero amount: refused with a clear error, nothing moves.
	for _, amount := range []string{"5stake", "0urep"} {
		out, err := cli(t, append([]string{"tx", "rewards", "fund-pool", amount}, txArgs...)...)
		if err == nil {
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			if res.Code == 0 {
				require.NoError(t, net.WaitForNextBlock())
				tx, err = clitestutil.GetTxResponse(net, val.ClientCtx, res.TxHash)
				require.NoError(t, err)
				require.Equal(t, types.ErrInvalidFunding.ABCICode(), tx.Code, tx.RawLog)
			} else {
				require.Contains(t, out, "invalid pool funding")
			}
		}
	}
	cliJSON(t, &pool, append([]string{"q", "rewards", "pool"}, node...)...)
	require.Equal(t, coin{"urep", "5000000"}, pool.Pool)

	// q rewards epoch: epoch 1 of 100 blocks, open since block 1.
	var epoch struct {
		Current struct {
			Number      string `json:"number"`
			StartHeight string `json:"start_height"`
			TotalPoints string `json:"total_points"`
		} `json:"current"`
		EndHeight string `json:"end_height"`
	}
	cliJSON(t, &epoch, append([]string{"q", "rewards", "epoch"}, node...)...)
	require.Equal(t, "1", epoch.Current.Number)
	require.Equal(t, "1", epoch.Current.StartHeight)
	require.Equal(t, "100", epoch.EndHeight)
	require.Equal(t, "0", epoch.Current.TotalPoints)

	// q rewards contribution: the validator never processed a request.
	var contribution struct {
		Contribution struct {
			Worker      string `json:"worker"`
			TotalPoints string `json:"total_points"`
		} `json:"contribution"`
		Epoch struct {
			Epoch    string `json:"epoch"`
			Points   string `json:"points"`
			Attempts string `json:"attempts"`
		} `json:"epoch"`
		EpochTotalPoints string `json:"epoch_total_points"`
	}
	cliJSON(t, &contribution, append([]string{"q", "rewards", "contribution", valAddr.String()}, node...)...)
	require.Equal(t, valAddr.String(), contribution.Contribution.Worker)
	require.Equal(t, "0", contribution.Contribution.TotalPoints)
	require.Equal(t, "1", contribution.Epoch.Epoch)
	require.Equal(t, "0", contribution.Epoch.Points)
	require.Equal(t, "0", contribution.EpochTotalPoints)
}

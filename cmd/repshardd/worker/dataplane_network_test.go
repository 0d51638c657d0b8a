package worker_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	clitestutil "github.com/cosmos/cosmos-sdk/testutil/cli"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	repshardcmd "github.com/repshard/repshard/cmd/repshardd/cmd"
	"github.com/repshard/repshard/cmd/repshardd/worker"
	"github.com/repshard/repshard/cmd/repshardd/worker/resultapi"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/testnetwork"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The data plane against a real in-process validator: the daemon fetches a
// payload held at an http URI, checks it and completes the request with the
// built-in executor; a payload whose hash is not the request's ends FAILED
// with the reason, unrun; the results are kept, and the result server gives
// them to the requester (signing with its keyring key), whose bytes hash to
// the result hash on chain, and refuses the worker's own key (403) until the
// requester names that account its result delegate on chain. Then
// `request fetch-result` finds the worker's endpoint on chain and writes the
// verified result, and refuses the bytes of a worker that serves others.
func TestDataPlaneOnInProcessNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	cfg, err := testnetwork.DefaultConfig(10 * time.Second)
	require.NoError(t, err)
	cfg.NumValidators = 1
	var dg deferraltypes.GenesisState // one failure report ends a request FAILED
	require.NoError(t, cfg.Codec.UnmarshalJSON(cfg.GenesisState[deferraltypes.ModuleName], &dg))
	dg.Params.FailureConfirmations = 1
	dg.Params.RetentionBlocks = 30 // fetch-result is also tried once the record is pruned
	cfg.GenesisState[deferraltypes.ModuleName] = cfg.Codec.MustMarshalJSON(&dg)
	net, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	val := net.Validators[0]
	_, err = net.WaitForHeightWithTimeout(2, 30*time.Second)
	require.NoError(t, err)
	ctx := context.Background()

	kr := val.ClientCtx.Keyring
	rec, _, err := kr.NewMnemonic("worker", keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	require.NoError(t, err)
	workerAddr, err := rec.GetAddress()
	require.NoError(t, err)
	res, err := testnetwork.BroadcastAndWait(net, val, banktypes.NewMsgSend(val.Address, workerAddr,
		sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(100_000_000)))))
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)
	sp, err := shardtypes.NewQueryClient(val.ClientCtx).Params(ctx, &shardtypes.QueryParamsRequest{})
	require.NoError(t, err)
	res, err = signAndWait(net, val.ClientCtx, "worker", workerAddr, &shardtypes.MsgRegisterWorker{
		Worker: workerAddr.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 100, Bond: sp.Params.MinWorkerBond, StorageBytes: 1 << 30,
	})
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)

	// The requester's data, held on a web server.
	held := []byte("a dataset held off chain\n")
	data := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(held) //nolint:errcheck
	}))
	defer data.Close()

	results, err := worker.OpenResultStore(worker.ResultStoreConfig{Dir: filepath.Join(t.TempDir(), "results")})
	require.NoError(t, err)
	defer results.Close()
	log := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log:\n%s", log)
		}
	})
	w, err := worker.New(worker.Config{
		ClientCtx: val.ClientCtx, KeyName: "worker", RPCAddress: val.RPCAddress,
		StatePath:    filepath.Join(t.TempDir(), "worker.jsonl"),
		GasPrices:    sdk.NewDecCoins(sdk.NewDecCoinFromDec(chaincfg.BondDenom, sdkmath.LegacyMustNewDecFromStr("0.001"))),
		PollInterval: 500 * time.Millisecond, Log: log,
		Rating:  worker.RatingPolicy{Disabled: true},
		Fetch:   worker.FetchConfig{AllowPrivateNetworks: true}, // the data server is on loopback
		Results: results,
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	heldHash := sha256.Sum256(held)
	otherHash := sha256.Sum256([]byte("not what the server holds"))
	msg := func(payload []byte, uri string, hash []byte, dataBytes uint64) *deferraltypes.MsgSubmitRequest {
		return &deferraltypes.MsgSubmitRequest{
			Requester: val.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyHigh,
			// 2 units × 1_000 × 1.5 (high) at the floor price, plus 1 urep of data.
			ComputeUnits: 2, Payload: payload, PayloadUri: uri, PayloadHash: hash, DataBytes: dataBytes,
			MaxFee: sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(4_000)),
		}
	}
	res, err = testnetwork.BroadcastAndWait(net, val,
		msg([]byte("inline job"), "", nil, 0),
		msg(nil, data.URL+"/dataset", heldHash[:], uint64(len(held))),
		msg(nil, data.URL+"/dataset", otherHash[:], uint64(len(held))),
	)
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)
	var txData sdk.TxMsgData
	require.NoError(t, val.ClientCtx.Codec.Unmarshal(mustDecodeHex(t, res.Data), &txData))
	var ids []uint64
	for _, any := range txData.MsgResponses {
		var r deferraltypes.MsgSubmitRequestResponse
		require.NoError(t, r.Unmarshal(any.Value))
		ids = append(ids, r.RequestId)
	}
	require.Len(t, ids, 3)
	inlineID, uriID, wrongID := ids[0], ids[1], ids[2]

	q := deferraltypes.NewQueryClient(val.ClientCtx)
	final := map[uint64]deferraltypes.Request{}
	require.Eventually(t, func() bool {
		for _, id := range ids {
			r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
			if err != nil || (r.Request.Status != deferraltypes.StatusCompleted && r.Request.Status != deferraltypes.StatusFailed) {
				return false
			}
			final[id] = r.Request
		}
		return true
	}, 60*time.Second, 250*time.Millisecond)
	require.Equal(t, deferraltypes.StatusCompleted, final[inlineID].Status)
	require.Equal(t, worker.BuiltinResult([]byte("inline job")).Hash, final[inlineID].ResultHash)
	require.Equal(t, deferraltypes.StatusCompleted, final[uriID].Status, final[uriID].FailureReason)
	require.Equal(t, worker.BuiltinResult(held).Hash, final[uriID].ResultHash)
	require.Equal(t, deferraltypes.StatusFailed, final[wrongID].Status)
	require.Contains(t, final[wrongID].FailureReason, "payload at payload_uri has sha256")

	// The result server: the requester downloads its results.
	rs, err := worker.NewResultServer(worker.ResultServerConfig{
		ChainID: val.ClientCtx.ChainID, Store: results,
		Delegates: worker.ChainDelegates{Querier: worker.GRPCResultDelegateQuerier{Conn: val.ClientCtx}},
	})
	require.NoError(t, err)
	hs := httptest.NewServer(rs.Handler())
	defer hs.Close()
	requester := resultapi.KeyringSigner(kr, "node0")
	for _, id := range []uint64{inlineID, uriID} {
		got, err := resultapi.FetchResult(ctx, hs.URL, val.ClientCtx.ChainID, id, requester, 1<<20)
		require.NoError(t, err, "request %d", id)
		sum := sha256.Sum256(got)
		require.Equal(t, final[id].ResultHash, sum[:], "request %d: the bytes served are the result on chain", id)
	}
	got, err := resultapi.FetchResult(ctx, hs.URL, val.ClientCtx.ChainID, uriID, requester, 1<<20)
	require.NoError(t, err)
	require.Equal(t, worker.BuiltinResult(held).Bytes, got)

	// The worker's key is not the requester, and the node knows no
	// delegate: 403. The failed request has no result: 404.
	_, err = resultapi.FetchResult(ctx, hs.URL, val.ClientCtx.ChainID, uriID, resultapi.KeyringSigner(kr, "worker"), 1<<20)
	require.Equal(t, http.StatusForbidden, resultapi.StatusCode(err), "%v", err)
	_, err = resultapi.FetchResult(ctx, hs.URL, val.ClientCtx.ChainID, wrongID, requester, 1<<20)
	require.Equal(t, http.StatusNotFound, resultapi.StatusCode(err), "%v", err)

	// The requester names the worker's account its result delegate on
	// chain: the server now serves it that account too.
	res, err = testnetwork.BroadcastAndWait(net, val, &deferraltypes.MsgSetResultDelegate{Requester: val.Address.String(), Delegate: workerAddr.String()})
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)
	got, err = resultapi.FetchResult(ctx, hs.URL, val.ClientCtx.ChainID, uriID, resultapi.KeyringSigner(kr, "worker"), 1<<20)
	require.NoError(t, err, "the delegate fetches the result")
	require.Equal(t, worker.BuiltinResult(held).Bytes, got)

	// `repshardd request fetch-result` finds the worker and its endpoint on
	// chain, downloads and verifies the result.
	publish := func(endpoint string) {
		t.Helper()
		res, err := signAndWait(net, val.ClientCtx, "worker", workerAddr, &shardtypes.MsgUpdateWorker{
			Worker: workerAddr.String(), CapacityUnits: 100, StorageBytes: 1 << 30, Endpoint: endpoint,
		})
		require.NoError(t, err)
		require.Zero(t, res.Code, res.RawLog)
	}
	publish(hs.URL)
	out := filepath.Join(t.TempDir(), "result.bin")
	fetchCLI := func(id uint64, from string) (string, error) {
		o, err := clitestutil.ExecTestCLICmd(val.ClientCtx, repshardcmd.NewRequestCmd(), []string{
			"fetch-result", strconv.FormatUint(id, 10), "--from", from, "--out", out, "--chain-id", val.ClientCtx.ChainID,
		})
		return o.String(), err
	}
	_, err = fetchCLI(uriID, "node0")
	require.NoError(t, err)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, worker.BuiltinResult(held).Bytes, written)
	_, err = fetchCLI(wrongID, "node0")
	require.ErrorContains(t, err, "only a COMPLETED request has a result")

	// A worker that serves other bytes than it reported is caught, by name.
	forged, err := worker.OpenResultStore(worker.ResultStoreConfig{Dir: filepath.Join(t.TempDir(), "forged")})
	require.NoError(t, err)
	defer forged.Close()
	_, err = forged.Put(uriID, val.Address.String(), worker.BuiltinResult([]byte("something else")))
	require.NoError(t, err)
	frs, err := worker.NewResultServer(worker.ResultServerConfig{ChainID: val.ClientCtx.ChainID, Store: forged, Delegates: worker.NoDelegates{}})
	require.NoError(t, err)
	fhs := httptest.NewServer(frs.Handler())
	defer fhs.Close()
	publish(fhs.URL)
	require.NoError(t, os.Remove(out))
	_, err = fetchCLI(uriID, "node0")
	require.ErrorContains(t, err, "no worker served a result")
	_, statErr := os.Stat(out)
	require.True(t, os.IsNotExist(statErr), "nothing is written when no worker served the right bytes")

	// A private payload: the request names a {worker} URI; once assigned,
	// the requester seals the data to the assigned worker's account key with
	// `request seal-payload` and uploads the copy; the daemon (which keeps
	// asking for the copy) opens it, checks it against the hash and runs it.
	secret := []byte("payroll, for the assigned worker's eyes only\n")
	secretHash := sha256.Sum256(secret)
	sealedDir := t.TempDir()
	sealedSrv := httptest.NewServer(http.FileServer(http.Dir(sealedDir)))
	defer sealedSrv.Close()
	res, err = testnetwork.BroadcastAndWait(net, val, msg(nil, sealedSrv.URL+"/payroll.{worker}.rsp", secretHash[:], uint64(len(secret))))
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)
	require.NoError(t, val.ClientCtx.Codec.Unmarshal(mustDecodeHex(t, res.Data), &txData))
	var sub deferraltypes.MsgSubmitRequestResponse
	require.NoError(t, sub.Unmarshal(txData.MsgResponses[0].Value))
	privateID := sub.RequestId
	plain := filepath.Join(t.TempDir(), "payroll.txt")
	require.NoError(t, os.WriteFile(plain, secret, 0o600))
	require.Eventually(t, func() bool {
		r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: privateID})
		return err == nil && r.Request.Status == deferraltypes.StatusAssigned
	}, time.Minute, 250*time.Millisecond)
	o, err := clitestutil.ExecTestCLICmd(val.ClientCtx, repshardcmd.NewRequestCmd(), []string{
		"seal-payload", strconv.FormatUint(privateID, 10), plain, "--out-dir", sealedDir, "--chain-id", val.ClientCtx.ChainID,
	})
	require.NoError(t, err, o.String())
	copyPath := filepath.Join(sealedDir, "payroll."+workerAddr.String()+".rsp")
	sealedCopy, err := os.ReadFile(copyPath)
	require.NoError(t, err, "seal-payload writes the copy the {worker} URI names")
	require.NotContains(t, string(sealedCopy), "payroll", "the copy is not the plaintext")
	var private deferraltypes.Request
	require.Eventually(t, func() bool {
		r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: privateID})
		if err != nil {
			return false
		}
		private = r.Request
		return private.Status == deferraltypes.StatusCompleted || private.Status == deferraltypes.StatusFailed
	}, 90*time.Second, 250*time.Millisecond)
	require.Equal(t, deferraltypes.StatusCompleted, private.Status, private.FailureReason)
	require.Equal(t, worker.BuiltinResult(secret).Hash, private.ResultHash, "the worker ran the opened plaintext")

	// Once the chain has pruned the record, fetch-result finds the request's
	// completion in the node's transaction index.
	publish(hs.URL)
	require.Eventually(t, func() bool {
		_, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: uriID})
		return err != nil
	}, 2*time.Minute, 500*time.Millisecond, "request %d is not pruned", uriID)
	_, err = fetchCLI(uriID, "node0")
	require.NoError(t, err)
	written, err = os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, worker.BuiltinResult(held).Bytes, written, "fetched after pruning, from the hash in the completion event")
}

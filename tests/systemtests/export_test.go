//go:build system_test

package systemtests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"cosmossdk.io/systemtests"
)

// The state of a stopped node exports to a genesis that validates, carries
// the repshard state (the worker, the request, the profiles) and, started on
// the same validators, continues the chain at the next height with every
// balance and record as it was; the restarted chain keeps working (a new
// request is assigned and completed, ids continuing). A zero-height export
// validates too.
func TestExportAndReimport(t *testing.T) {
	c := sharedChain(t)
	addrs := c.newAccounts(100_000_000, "export-worker", "export-requester")
	worker, requester := addrs[0], addrs[1]
	c.registerWorker("export-worker", "data-intensive", 100)
	res := c.tx("deferral", "submit-request", "data-intensive", "3", "1000000"+denom, "--payload=before export",
		"--from=export-requester", repshardGas)
	id := event(res, evSubmitted, "request_id").String()
	require.Equal(t, worker, event(res, evAssigned, "worker").String())
	c.tx("deferral", "complete-request", id, sha256Hex("before export"), "--from=export-worker", repshardGas)

	// what must survive the export and re-import: state that empty blocks do
	// not change, read after the last tx
	state := func() map[string]string {
		return map[string]string{
			"worker balance":    strconv.FormatInt(c.balance(worker), 10),
			"requester balance": strconv.FormatInt(c.balance(requester), 10),
			"worker":            c.rest("/repshard/shard/v1/workers/" + worker).Raw,
			"request":           c.rest("/repshard/deferral/v1/requests/" + id).Raw,
			"requester counts": c.rest("/repshard/reputation/v1/profiles/" + requester).
				Get("{profile.submitted,profile.completed,profile.failed,profile.expired}").Raw,
			"pending rewards": c.rest("/repshard/rewards/v1/pending/" + worker).Raw,
			"deferral params": c.rest("/repshard/deferral/v1/params").Raw,
			"shard params":    c.rest("/repshard/shard/v1/params").Raw,
			"validators":      c.rest("/cosmos/staking/v1beta1/validators").Raw,
		}
	}
	before := state()
	c.stop()
	node0 := c.sut.NodeDir(0)
	exported := filepath.Join(t.TempDir(), "exported-genesis.json")
	c.runNode("export", "--home="+node0, "--output-document="+exported)
	genesis, err := os.ReadFile(exported)
	require.NoError(t, err)
	require.Contains(t, c.runNode("genesis", "validate", exported, "--home="+node0), "is a valid genesis file")

	lastHeight := gjson.GetBytes(genesis, "initial_height").Int() - 1
	require.Positive(t, lastHeight)
	app := gjson.GetBytes(genesis, "app_state")
	require.Equal(t, worker, app.Get(fmt.Sprintf("shard.workers.#(address==%q).address", worker)).String())
	require.Equal(t, "REQUEST_STATUS_COMPLETED", app.Get(fmt.Sprintf("deferral.requests.#(id==%q).status", id)).String(),
		"the exported request")
	require.True(t, app.Get(fmt.Sprintf("reputation.profiles.#(address==%q)", requester)).Exists())

	zero := filepath.Join(t.TempDir(), "zero-height-genesis.json")
	c.runNode("export", "--for-zero-height", "--home="+node0, "--output-document="+zero)
	require.Contains(t, c.runNode("genesis", "validate", zero, "--home="+node0), "is a valid genesis file")

	// restart the network from the export: every node's data wiped, the
	// exported genesis in place, the same validator keys (the reset restores
	// the test keyring to the validators' keys: keep this test's keys)
	keyring := filepath.Join(systemtests.WorkDir, "testnet", "keyring-test")
	saved := t.TempDir()
	systemtests.MustCopyFilesInDir(keyring, saved)
	c.sut.ModifyGenesisJSON(t, func([]byte) []byte { return genesis })
	systemtests.MustCopyFilesInDir(saved, keyring)
	c.sut.StartChain(t)
	c = newChain(t)
	require.Greater(t, c.height(), lastHeight, "the chain continues after the exported height")

	after := state()
	for k, v := range before {
		require.JSONEq(t, v, after[k], "%s after the re-import", k)
	}

	// and keeps working: a new request to the same worker, the next id
	res = c.tx("deferral", "submit-request", "data-intensive", "1", "1000000"+denom, "--payload=after export",
		"--from=export-requester", repshardGas)
	next := event(res, evSubmitted, "request_id").Int()
	oldID, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	require.Greater(t, next, oldID)
	require.Equal(t, worker, event(res, evAssigned, "worker").String())
	c.tx("deferral", "complete-request", strconv.FormatInt(next, 10), sha256Hex("after export"),
		"--from=export-worker", repshardGas)
	require.EqualValues(t, 2, c.q("shard", "worker", worker).Get("worker.completed").Int())
}

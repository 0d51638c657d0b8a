package cmd_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/repshard/repshard/cmd/repshardd/cmd"
)

// runInit runs `repshardd init` into home with args.
func runInit(t *testing.T, home string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"init", "node", "--chain-id", "blockgas-1", "--home", home}, args...))
	err := svrcmd.Execute(root, "", home)
	return out.String(), err
}

func blockMaxGas(t *testing.T, genFile string) int64 {
	t.Helper()
	g, err := genutiltypes.AppGenesisFromFile(genFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.ValidateAndComplete(); err != nil {
		t.Fatalf("genesis: %v", err)
	}
	return g.Consensus.Params.Block.MaxGas
}

// A new genesis has a block gas limit: repshardd's default, or the
// --block-max-gas given (-1 for none); 0 or below -1 is refused before any
// genesis is written. The same for testnet init-files.
func TestNewGenesisHasABlockGasLimit(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{nil, cmd.DefaultBlockMaxGas},
		{[]string{"--block-max-gas", "5000000"}, 5_000_000},
		{[]string{"--block-max-gas", "-1"}, -1},
	} {
		home := t.TempDir()
		if out, err := runInit(t, home, tc.args...); err != nil {
			t.Fatalf("init %v: %v\n%s", tc.args, err, out)
		}
		if got := blockMaxGas(t, filepath.Join(home, "config", "genesis.json")); got != tc.want {
			t.Errorf("init %v: block max gas %d, want %d", tc.args, got, tc.want)
		}
	}
	for _, bad := range []string{"0", "-2"} {
		home := t.TempDir()
		_, err := runInit(t, home, "--block-max-gas", bad)
		if err == nil || !strings.Contains(err.Error(), "block-max-gas") {
			t.Errorf("--block-max-gas %s: err %v, want a refusal naming the flag", bad, err)
		}
		if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); !os.IsNotExist(err) {
			t.Errorf("--block-max-gas %s: a genesis was written", bad)
		}
	}

	out := filepath.Join(t.TempDir(), "net")
	if stdout, err := runRepshardd(t, "testnet", "init-files", "-n", "1", "--single-host", "-o", out); err != nil {
		t.Fatalf("testnet init-files: %v\n%s", err, stdout)
	}
	if got := blockMaxGas(t, filepath.Join(out, "node0", "repshardd", "config", "genesis.json")); got != cmd.DefaultBlockMaxGas {
		t.Errorf("testnet: block max gas %d, want %d", got, cmd.DefaultBlockMaxGas)
	}
	if _, err := runRepshardd(t, "testnet", "init-files", "-n", "1", "--single-host", "-o", filepath.Join(t.TempDir(), "x"), "--block-max-gas", "0"); err == nil {
		t.Error("testnet init-files --block-max-gas 0 was accepted")
	}
}

package types_test

import (
	"errors"
	"strings"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/shard/types"
)

func addr(b byte) string {
	bz := make([]byte, 20)
	for i := range bz {
		bz[i] = b
	}
	return sdk.MustBech32ifyAddressBytes(chaincfg.Bech32Prefix, bz)
}

// validGenesis has the default shards plus: shard 1 with two ACTIVE workers
// (capacity 10 + 20, 5 in flight, 3 queued) and an UNBONDING one with 2 in
// flight; shard 2 with an UNBONDING worker waiting for its release.
func validGenesis() types.GenesisState {
	gs := *types.DefaultGenesis()
	bond := gs.Params.MinWorkerBond
	hp, lp := []types.ShardClass{types.ClassHighPriority}, []types.ShardClass{types.ClassLowPriority, types.ClassHighPriority}
	gs.Workers = []types.Worker{
		{Address: addr(1), Bond: bond, Classes: hp, CapacityUnits: 10, ShardId: 1, InFlightUnits: 5, Status: types.WorkerActive},
		{Address: addr(2), Bond: bond, Classes: hp, CapacityUnits: 20, ShardId: 1, Status: types.WorkerActive},
		{Address: addr(3), Bond: bond, Classes: hp, CapacityUnits: 4, ShardId: 1, InFlightUnits: 2, Status: types.WorkerUnbonding, UnbondingHeight: 7},
		{Address: addr(4), Bond: bond, Classes: lp, CapacityUnits: 4, ShardId: 2, Status: types.WorkerUnbonding, UnbondingHeight: 7, ReleaseHeight: 107},
	}
	s1 := &gs.Shards[0]
	s1.WorkerCount, s1.CapacityUnits, s1.InFlightUnits, s1.QueuedUnits, s1.QueuedCount = 2, 30, 7, 3, 1
	s1.LoadPpm = 333_333
	return gs
}

func TestGenesisValidateAccepts(t *testing.T) {
	for name, gs := range map[string]types.GenesisState{
		"default":      *types.DefaultGenesis(),
		"with workers": validGenesis(),
		"params only":  {Params: types.DefaultParams()},
		"retired shard": func() types.GenesisState {
			g := validGenesis()
			g.Shards = append(g.Shards, types.Shard{Id: 5, Class: types.ClassHighPriority, Status: types.ShardRetired, LoadPpm: 1_000_000})
			g.NextShardId = 9
			return g
		}(),
		"slashed to zero": func() types.GenesisState {
			g := validGenesis()
			g.Workers[1].Bond.Amount = g.Workers[1].Bond.Amount.SubRaw(g.Workers[1].Bond.Amount.Int64())
			return g
		}(),
	} {
		if err := gs.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestGenesisValidateRejects(t *testing.T) {
	cases := map[string]struct {
		edit func(g *types.GenesisState)
		want string
	}{
		"invalid params":         {func(g *types.GenesisState) { g.Params.MaxBondReleasesPerBlock = 0 }, "max_bond_releases_per_block"},
		"duplicate shard":        {func(g *types.GenesisState) { g.Shards = append(g.Shards, g.Shards[3]) }, "listed twice"},
		"shard id 0":             {func(g *types.GenesisState) { g.Shards[3].Id = 0 }, "id 0"},
		"id not below next":      {func(g *types.GenesisState) { g.NextShardId = 4 }, "next_shard_id"},
		"next id zero":           {func(g *types.GenesisState) { g.NextShardId = 0 }, "next_shard_id"},
		"unspecified class":      {func(g *types.GenesisState) { g.Shards[3].Class = types.ClassUnspecified }, "invalid class"},
		"unknown class":          {func(g *types.GenesisState) { g.Shards[3].Class = 17 }, "invalid class"},
		"unspecified status":     {func(g *types.GenesisState) { g.Shards[3].Status = types.ShardStatusUnspecified }, "invalid status"},
		"class without shard":    {func(g *types.GenesisState) { g.Shards[3].Status = types.ShardDraining }, "no ACTIVE shard"},
		"fewer shards than min":  {func(g *types.GenesisState) { g.Params.MinShardsPerClass = 2 }, "outside [min_shards_per_class 2"},
		"wrong load":             {func(g *types.GenesisState) { g.Shards[0].LoadPpm = 333_334 }, "load_ppm"},
		"queued units, no count": {func(g *types.GenesisState) { g.Shards[0].QueuedCount = 0 }, "queued"},
		"capacity mismatch":      {func(g *types.GenesisState) { g.Shards[0].CapacityUnits = 34; g.Shards[0].LoadPpm = 294_117 }, "do not match"},
		"worker count mismatch":  {func(g *types.GenesisState) { g.Shards[0].WorkerCount = 3 }, "do not match"},
		"in-flight mismatch":     {func(g *types.GenesisState) { g.Shards[0].InFlightUnits = 5; g.Shards[0].LoadPpm = 266_666 }, "do not match"},
		"duplicate worker":       {func(g *types.GenesisState) { g.Workers = append(g.Workers, g.Workers[1]) }, "listed twice"},
		"unknown shard":          {func(g *types.GenesisState) { g.Workers[3].ShardId = 42 }, "unknown shard"},
		"bad worker address":     {func(g *types.GenesisState) { g.Workers[0].Address = "cosmos1xyz" }, "invalid address"},
		"worker without class":   {func(g *types.GenesisState) { g.Workers[3].Classes = nil }, "at least one class"},
		"worker class unspec":    {func(g *types.GenesisState) { g.Workers[3].Classes = []types.ShardClass{types.ClassUnspecified} }, "not a valid worker class"},
		"worker class twice": {func(g *types.GenesisState) {
			g.Workers[3].Classes = []types.ShardClass{types.ClassLowPriority, types.ClassLowPriority}
		}, "twice"},
		"shard not of its class": {func(g *types.GenesisState) { g.Workers[3].Classes = []types.ShardClass{types.ClassDataIntensive} }, "not one of the worker's classes"},
		"zero capacity":          {func(g *types.GenesisState) { g.Workers[3].CapacityUnits = 0 }, "capacity_units"},
		"in flight above cap": {func(g *types.GenesisState) {
			g.Workers[2].InFlightUnits = 5
			g.Shards[0].InFlightUnits = 10
			g.Shards[0].LoadPpm = 433_333
		}, "above capacity"},
		"unspecified status w":       {func(g *types.GenesisState) { g.Workers[3].Status = types.WorkerStatusUnspecified }, "invalid status"},
		"active with release":        {func(g *types.GenesisState) { g.Workers[1].ReleaseHeight = 9 }, "ACTIVE with"},
		"idle unbonding, no release": {func(g *types.GenesisState) { g.Workers[3].ReleaseHeight = 0 }, "release height"},
		"busy unbonding, release":    {func(g *types.GenesisState) { g.Workers[2].ReleaseHeight = 50 }, "release height"},
		"invalid bond":               {func(g *types.GenesisState) { g.Workers[2].Bond.Denom = "" }, "bond"},
		"worker on retired shard": {func(g *types.GenesisState) {
			g.Shards = append(g.Shards, types.Shard{Id: 5, Class: types.ClassLowPriority, Status: types.ShardRetired, LoadPpm: 1_000_000})
			g.NextShardId = 6
			g.Workers[3].ShardId = 5
		}, "retired"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := validGenesis()
			c.edit(&g)
			err := g.Validate()
			if err == nil {
				t.Fatal("Validate must reject this genesis")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q must mention %q", err, c.want)
			}
		})
	}
}

func TestDefaultGenesisTopology(t *testing.T) {
	gs := types.DefaultGenesis()
	if len(gs.Shards) != 4 || gs.NextShardId != 5 || len(gs.Workers) != 0 {
		t.Fatalf("want shards 1..4, next id 5, no workers: %+v", gs)
	}
	for i, s := range gs.Shards {
		if s.Id != uint64(i+1) || s.Class != types.AllClasses[i] || s.Status != types.ShardActive || s.LoadPpm != 1_000_000 {
			t.Fatalf("shard %d: %+v", i, s)
		}
	}
}

func TestParseClassList(t *testing.T) {
	good := map[string][]types.ShardClass{
		"high-priority":                                               {types.ClassHighPriority},
		"high-priority,compute-intensive":                             {types.ClassHighPriority, types.ClassComputeIntensive},
		" low-priority , DATA-INTENSIVE ":                             {types.ClassLowPriority, types.ClassDataIntensive},
		"SHARD_CLASS_COMPUTE_INTENSIVE,2":                             {types.ClassComputeIntensive, types.ClassLowPriority},
		"data_intensive,high-priority,low-priority,compute-intensive": {types.ClassDataIntensive, types.ClassHighPriority, types.ClassLowPriority, types.ClassComputeIntensive},
	}
	for in, want := range good {
		got, err := types.ParseClassList(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: got %v want %v", in, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: got %v want %v", in, got, want)
			}
		}
	}
	bad := map[string]string{
		"":                            "no class",
		"gpu":                         `unknown class "gpu"`,
		"high-priority,":              `unknown class ""`,
		"high-priority,,low-priority": `unknown class ""`,
		"high priority":               `unknown class "high priority"`,
		"unspecified":                 "unknown class",
		"0":                           "unknown class",
		"5":                           "unknown class",
		"high-priority,high-priority": "listed twice",
		"low-priority,2":              "listed twice",
	}
	for in, want := range bad {
		_, err := types.ParseClassList(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%q: want an error mentioning %q, got %v", in, want, err)
		}
		if !errors.Is(err, types.ErrInvalidClass) {
			t.Fatalf("%q: want ErrInvalidClass, got %v", in, err)
		}
	}
}

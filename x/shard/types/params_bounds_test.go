package types_test

import (
	"strings"
	"testing"

	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/x/shard/types"
)

func TestParamsValidateRejectsForeignBondAndUnboundedCaps(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(p *types.Params)
		want string
	}{
		"bond in another coin":  {func(p *types.Params) { p.MinWorkerBond.Denom = "uatom" }, "min_worker_bond"},
		"workers per shard":     {func(p *types.Params) { p.MaxWorkersPerShard = paramcheck.MaxPerBlockCap + 1 }, "max_workers_per_shard"},
		"shards per class":      {func(p *types.Params) { p.MaxShardsPerClass = paramcheck.MaxPerBlockCap + 1 }, "max_shards_per_class"},
		"migrations":            {func(p *types.Params) { p.MaxMigrationsPerBlock = paramcheck.MaxPerBlockCap + 1 }, "max_migrations_per_block"},
		"topology checks":       {func(p *types.Params) { p.MaxTopologyChecksPerBlock = paramcheck.MaxPerBlockCap + 1 }, "max_topology_checks_per_block"},
		"bond releases":         {func(p *types.Params) { p.MaxBondReleasesPerBlock = paramcheck.MaxPerBlockCap + 1 }, "max_bond_releases_per_block"},
		"assignment candidates": {func(p *types.Params) { p.MaxAssignmentCandidates = paramcheck.MaxPerBlockCap + 1 }, "max_assignment_candidates"},
	} {
		p := types.DefaultParams()
		c.edit(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error mentioning %q, got %v", name, c.want, err)
		}
	}
}

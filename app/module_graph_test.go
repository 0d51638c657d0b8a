package app_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const modulePath = "github.com/repshard/repshard/"

// allowedModuleImports is the module graph of docs/architecture.md: which
// repshard modules each module's code (keeper, types, simulation, CLI, …; not
// its tests) may reach through its imports, directly or through other
// repshard packages.
var allowedModuleImports = map[string][]string{
	"deferral":   {"reputation", "rewards", "shard"},
	"reputation": {},
	"rewards":    {},
	"shard":      {},
}

// TestModuleGraphIsOneWay walks the non-test imports of every package under
// x/<module> and fails when one reaches a module the graph does not allow, so
// that an import against the graph is caught at once, not found later in a
// cycle.
func TestModuleGraphIsOneWay(t *testing.T) {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	root := filepath.Dir(filepath.Dir(file))
	for module, allowed := range allowedModuleImports {
		reached := map[string]bool{}
		for _, pkg := range packagesUnder(t, root, filepath.Join("x", module)) {
			reachModules(t, root, pkg, map[string]bool{}, reached)
		}
		delete(reached, module)
		var extra []string
		for m := range reached {
			if !contains(allowed, m) {
				extra = append(extra, m)
			}
		}
		sort.Strings(extra)
		require.Empty(t, extra, "x/%s reaches modules the graph does not allow (docs/architecture.md)", module)
	}
}

// packagesUnder lists the import paths of the Go packages in dir and below.
func packagesUnder(t *testing.T, root, dir string) []string {
	t.Helper()
	var pkgs []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		goFiles, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil || len(goFiles) == 0 {
			return err
		}
		rel, err := filepath.Rel(root, path)
		pkgs = append(pkgs, modulePath+filepath.ToSlash(rel))
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, pkgs, dir)
	return pkgs
}

// reachModules adds to reached every x/<module> that pkg imports, directly
// or through other repshard packages.
func reachModules(t *testing.T, root, pkg string, seen, reached map[string]bool) {
	t.Helper()
	if seen[pkg] {
		return
	}
	seen[pkg] = true
	rel := strings.TrimPrefix(pkg, modulePath)
	if m, ok := strings.CutPrefix(rel, "x/"); ok {
		reached[strings.SplitN(m, "/", 2)[0]] = true
	}
	bp, err := build.ImportDir(filepath.Join(root, filepath.FromSlash(rel)), 0)
	if _, noGo := err.(*build.NoGoError); noGo {
		return
	}
	require.NoError(t, err, pkg)
	for _, imp := range bp.Imports {
		if strings.HasPrefix(imp, modulePath) {
			reachModules(t, root, imp, seen, reached)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

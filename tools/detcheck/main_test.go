package main

import (
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

func findings(t *testing.T, pattern string) []string {
	t.Helper()
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
		packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, pattern)
	if err != nil || packages.PrintErrors(pkgs) > 0 {
		t.Fatalf("load %s: %v", pattern, err)
	}
	var out []string
	for _, f := range pkgs[0].Syntax {
		out = append(out, check(pkgs[0].Fset, pkgs[0].TypesInfo, f)...)
	}
	return out
}

func TestFindsEveryKind(t *testing.T) {
	got := strings.Join(findings(t, "./testdata/bad"), "\n")
	for _, want := range []string{"imports math/rand", "go statement", "time.Now", "range over a map", "floating point"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestAllowsOptOut(t *testing.T) {
	if got := findings(t, "./testdata/good"); len(got) != 0 {
		t.Fatalf("want no findings, got %v", got)
	}
}

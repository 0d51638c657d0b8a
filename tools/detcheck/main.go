// Command detcheck fails when state-machine code uses something that can
// make validators disagree: time.Now, math/rand, go statements, floating
// point, or ranging over a map (its order is random). It checks the non-test,
// non-generated Go files of the packages named on the command line, e.g.
//
//	detcheck ./app ./x/*/keeper ./x/*/types
//
// A line may opt out with a trailing `// detcheck:ok <reason>` comment.
//
// The one standing exception is internal/nodemetrics, the node metrics
// (the SDK's telemetry): go-metrics takes float32 values, so its three
// write calls carry detcheck:ok, and its Stopwatch reads the wall clock
// through telemetry.Now (not time.Now) for EndBlock step durations. Both only
// leave the process as metrics; nothing reads them back into state.
package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: detcheck PACKAGE...")
		os.Exit(2)
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
		packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, os.Args[1:]...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "detcheck:", err)
		os.Exit(2)
	}
	if packages.PrintErrors(pkgs) > 0 {
		os.Exit(2)
	}
	var findings []string
	for _, pkg := range pkgs {
		for _, file := range pkg.Syntax {
			name := pkg.Fset.File(file.Pos()).Name()
			if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".pb.go") || strings.HasSuffix(name, ".pb.gw.go") {
				continue
			}
			findings = append(findings, check(pkg.Fset, pkg.TypesInfo, file)...)
		}
	}
	sort.Strings(findings)
	for _, f := range findings {
		fmt.Println(f)
	}
	if len(findings) > 0 {
		fmt.Fprintf(os.Stderr, "detcheck: %d non-deterministic construct(s) in the state machine\n", len(findings))
		os.Exit(1)
	}
}

func check(fset *token.FileSet, info *types.Info, file *ast.File) []string {
	allowed := allowedLines(fset, file)
	var out []string
	report := func(pos token.Pos, format string, args ...any) {
		p := fset.Position(pos)
		if allowed[p.Line] {
			return
		}
		out = append(out, fmt.Sprintf("%s:%d: %s", p.Filename, p.Line, fmt.Sprintf(format, args...)))
	}
	for _, imp := range file.Imports {
		switch path := strings.Trim(imp.Path.Value, `"`); path {
		case "math/rand", "math/rand/v2", "crypto/rand":
			report(imp.Pos(), "imports %s: randomness differs between validators", path)
		}
	}
	seenFloat := map[token.Pos]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n.Pos(), "go statement: goroutines make execution order non-deterministic")
		case *ast.SelectorExpr:
			if obj, ok := info.Uses[n.Sel]; ok && obj.Pkg() != nil && obj.Pkg().Path() == "time" && n.Sel.Name == "Now" {
				report(n.Pos(), "time.Now: use the block time from the context")
			}
		case *ast.RangeStmt:
			if t := info.TypeOf(n.X); t != nil {
				if _, isMap := t.Underlying().(*types.Map); isMap {
					report(n.Pos(), "range over a map: iteration order is random; sort the keys first")
				}
			}
		case ast.Expr:
			if tv, ok := info.Types[n]; ok && isFloat(tv.Type) && !seenFloat[n.Pos()] {
				seenFloat[n.Pos()] = true
				report(n.Pos(), "floating point (%s): results can differ between machines; use integer ppm", tv.Type)
				return false
			}
		}
		return true
	})
	return out
}

func isFloat(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsFloat != 0
}

// allowedLines returns the lines carrying a `detcheck:ok` comment.
func allowedLines(fset *token.FileSet, file *ast.File) map[int]bool {
	lines := map[int]bool{}
	for _, group := range file.Comments {
		for _, c := range group.List {
			if strings.Contains(c.Text, "detcheck:ok") {
				lines[fset.Position(c.Pos()).Line] = true
			}
		}
	}
	return lines
}

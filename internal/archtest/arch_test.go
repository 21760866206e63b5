// Package archtest holds the test that keeps the import rules of
// docs/architecture.md true: each package imports only packages of lower
// layers, so the core never reaches the CLI or the TUI and the leaves stay
// leaves.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/kafkatls/kafkatls"

// layer of every package of the module (directory relative to the module
// root). Keep it in step with docs/architecture.md.
var layer = map[string]int{
	// 0: leaves, importing nothing of this module.
	"principal": 0, "pem": 0, "stores": 0, "templates": 0, "kafkaacl": 0,
	"internal/fsx": 0, "internal/buildinfo": 0, "internal/realpeer": 0, "engine/certdiff": 0,
	// 1: the CA and its index; the test broker.
	"pki": 1, "testbroker": 1, "engine/enginecert": 1, "sasl": 1,
	// 2: one identity's directory; a shared CA engine's client.
	"identity": 2, "engine/vault": 2, "engine/stepca": 2,
	// 3: whole bundles; reading and linting files; the engine adapters.
	"bundle": 3, "inspect": 3, "engine": 3, "mirrormaker": 3,
	// 4: lifecycle and verification of bundles.
	"lifecycle": 4, "verify": 4,
	// 5: the TUI.
	"wizard": 5,
	// 6: the CLI.
	"cmd": 6,
	// 7: programs and suites that drive the CLI.
	".": 7, "internal/genman": 7, "e2e": 7, "bench": 7, "internal/archtest": 7,
}

func TestImportsFollowTheLayers(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{} // package dir -> module packages it imports (non-test files)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if imports[rel] == nil {
			imports[rel] = map[string]bool{}
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if p == module {
				imports[rel]["."] = true
			} else if strings.HasPrefix(p, module+"/") {
				imports[rel][strings.TrimPrefix(p, module+"/")] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docs", "architecture.md")); err != nil {
		t.Errorf("docs/architecture.md: %v", err)
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		t.Run(p, func(t *testing.T) {
			lp, ok := layer[p]
			if !ok {
				t.Fatalf("package %s has no layer: add it to docs/architecture.md and to the layer map of this test", p)
			}
			for im := range imports[p] {
				li, ok := layer[im]
				if !ok {
					continue // reported for that package itself
				}
				if li >= lp {
					t.Errorf("%s (layer %d) imports %s (layer %d): a package may import only lower layers (docs/architecture.md)", p, lp, im, li)
				}
			}
		})
	}
}

package cmd

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// corePackages are the packages below the CLI: their errors reach wizard
// users too, so they speak domain words and never name a flag or a command.
var corePackages = []string{"pki", "principal", "identity", "stores", "pem", "lifecycle", "bundle", "templates",
	"testbroker", "verify", "inspect", "wizard", "kafkaacl", "internal/fsx"}

// cliWords are what only the CLI may say: a flag (--ip) or a command
// (kafkatls issue).
var cliWords = regexp.MustCompile(`(^|[\s(\x60'"])--[a-z]|kafkatls [a-z]`)

// TestCoreErrorsNameNoFlags checks every string literal passed to
// errors.New, fmt.Errorf and pki's invalid() in the core packages.
func TestCoreErrorsNameNoFlags(t *testing.T) {
	for _, pkg := range corePackages {
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", pkg, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !isErrorConstructor(call.Fun) {
					return true
				}
				for _, a := range call.Args {
					lit, ok := a.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					if s, err := strconv.Unquote(lit.Value); err == nil && cliWords.MatchString(s) {
						t.Errorf("%s: error names a flag or command: %q", fset.Position(lit.Pos()), s)
					}
				}
				return true
			})
		}
	}
}

func isErrorConstructor(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		return ok && (x.Name == "errors" && f.Sel.Name == "New" || x.Name == "fmt" && f.Sel.Name == "Errorf")
	case *ast.Ident:
		return f.Name == "invalid"
	}
	return false
}

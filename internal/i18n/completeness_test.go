package i18n_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// usedKeys collects every message id the program uses: {{... .T "id"}} in
// templates and i18n.M("id") in Go code. It fails when i18n.M is called
// with anything but a string literal, since such ids cannot be checked.
func usedKeys(t *testing.T) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	tmplKey := regexp.MustCompile(`\.T\s+"([^"]+)"`)
	err := fs.WalkDir(ganetimgr.Templates(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(ganetimgr.Templates(), p)
		if err != nil {
			return err
		}
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = append(used[m[1]], "templates/"+p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "M" {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "i18n" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: i18n.M called with a non-literal id", fset.Position(call.Pos()))
				return true
			}
			id, _ := strconv.Unquote(lit.Value)
			used[id] = append(used[id], fset.Position(call.Pos()).String())
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}

func TestMissingTranslations(t *testing.T) {
	b, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	used := usedKeys(t)
	if len(used) < 20 {
		t.Fatalf("found only %d used keys; the scanner is broken", len(used))
	}
	for _, lang := range i18n.Languages() {
		for id, where := range used {
			if !b.Has(lang.Code, id) {
				t.Errorf("%s: message %q (used in %s) is missing", lang.Code, id, where[0])
			}
		}
	}
	// Every language defines the same ids, so nothing is English-only.
	en := b.MessageIDs("en")
	for _, lang := range i18n.Languages()[1:] {
		if got := b.MessageIDs(lang.Code); strings.Join(got, ",") != strings.Join(en, ",") {
			t.Errorf("%s defines %d ids, en %d: differences %v", lang.Code, len(got), len(en), diff(en, got))
		}
	}
	// And nothing is defined that nobody uses.
	for _, id := range en {
		if _, ok := used[id]; !ok {
			t.Errorf("message %q is defined but never used", id)
		}
	}
}

func diff(a, b []string) []string {
	in := map[string]int{}
	for _, x := range a {
		in[x]++
	}
	for _, x := range b {
		in[x]--
	}
	var out []string
	for k, v := range in {
		if v != 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestNegotiate(t *testing.T) {
	b, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ user, cookie, accept, want string }{
		{"", "", "", "en"},
		{"", "", "el-GR,el;q=0.9", "el"},
		{"", "", "de-DE,el;q=0.5", "el"},
		{"", "", "de-DE", "en"},
		{"", "en", "el", "en"},
		{"el", "en", "en", "el"},
		{"xx", "el", "", "el"},
		{"", "", "garbage;;q=", "en"},
	}
	for _, c := range cases {
		if got := b.Negotiate(c.user, c.cookie, c.accept); got != c.want {
			t.Errorf("Negotiate(%q, %q, %q) = %q, want %q", c.user, c.cookie, c.accept, got, c.want)
		}
	}
}

func TestTranslateWithArguments(t *testing.T) {
	b, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Localizer("el").T("login.throttled", "Minutes", 7); !strings.Contains(got, "7 λεπτά") {
		t.Errorf("el login.throttled = %q", got)
	}
	if got := b.Localizer("en").T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key = %q, want the id", got)
	}
}

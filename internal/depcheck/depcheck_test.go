package depcheck

import (
	"strings"
	"testing"
)

const m = "github.com/deb2fs/deb2fs/"

// kits are the test kits: packages only tests import.
var kits = []string{
	m + "archive/archivetest", m + "inspect/inspecttest", m + "compose/rootfs/rootfstest",
	m + "internal/hosttest", m + "internal/registrytest", m + "internal/apttest",
	m + "fixtures/...", m + "internal/depcheck",
}

// rules are the module's shape (README.md, "Layout"): data flows from the
// archive through mirror into the store and index, and from there through
// compose to an output; readers (inspect) never write; the CLI holds no
// policy of its own.
var rules = []Rule{
	// The bottom: vocabulary and self-contained mechanisms.
	{From: m + "imagespec", Not: []string{m + "..."}, Why: "the image vocabulary imports nothing of deb2fs"},
	{From: m + "imageref", Not: []string{m + "..."}, Why: "the reference parser imports nothing of deb2fs"},
	{From: m + "resolve", Not: []string{m + "..."}, Why: "the resolver works on its own package records"},
	{From: m + "aptsources", Not: []string{m + "..."}, Why: "reading apt's configuration needs nothing else"},
	{From: m + "dpkg", Not: []string{m + "..."}, Why: "dpkg's formats are a leaf"},
	{From: m + "sandbox", Not: []string{m + "..."}, Why: "the sandbox knows nothing of packages or images"},
	{From: m + "firstboot", Not: []string{m + "..."}, Why: "firstboot hooks are a leaf"},

	// The store and the index model.
	{From: m + "store", Not: []string{m + "index", m + "mirror", m + "archive", m + "compose/...", m + "inspect/...", m + "output", m + "resolve", m + "update"},
		Why: "the store owns the layout and knows no concept above it"},
	{From: m + "index", Not: []string{m + "mirror", m + "archive", m + "aptsources", m + "compose/...", m + "inspect", "github.com/ProtonMail/go-crypto/..."},
		Why: "the index model sits below the mirror run and its readers"},
	{From: m + "convert", Not: []string{m + "store", m + "index", m + "mirror", m + "archive", m + "compose/..."},
		Why: "convert turns one .deb into one layer and stores nothing itself"},
	{From: m + "archive", Not: []string{m + "store", m + "index", m + "mirror", m + "convert", m + "compose/..."},
		Why: "the archive client only fetches and verifies"},

	// Writers.
	{From: m + "mirror", Not: []string{m + "compose/...", m + "inspect/...", m + "update", m + "output"},
		Why: "the mirror run publishes layers and an index, it composes nothing"},
	{From: m + "compose/...", Not: []string{m + "mirror", m + "archive", m + "aptsources", m + "inspect/...", m + "update", m + "imagefile", m + "localdeb", m + "extsource", m + "internal/cli", "github.com/ProtonMail/go-crypto/..."},
		Why: "compose reads the index and the store, never the archive or OpenPGP"},
	{From: m + "compose/configure", Not: []string{m + "compose", m + "output"},
		Why: "the configure run knows nothing of the image around its layer"},
	{From: m + "compose/rootfs", Not: []string{m + "compose", m + "compose/configure", m + "index", m + "output"},
		Why: "layer trees know no images, index or maintainer scripts"},
	{From: m + "output", Not: []string{m + "compose/...", m + "index", m + "mirror", m + "inspect/..."},
		Why: "an output sends an image from a layout, whatever made it"},
	{From: m + "update", Not: []string{m + "mirror", m + "archive"},
		Why: "update composes again over an index"},

	// Readers.
	{From: m + "inspect", Not: []string{m + "compose/...", m + "update", m + "mirror", m + "output", m + "store", m + "index"},
		Why: "inspect only reads images"},
}

// TestImportRules: no package of the module depends on what its rule
// forbids, and no package that ships imports a test kit.
func TestImportRules(t *testing.T) {
	g, err := Load("../..", "./...")
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range Check(g, rules) {
		t.Error(msg)
	}
	for p := range g {
		if !strings.HasPrefix(p, m) || isKit(p) {
			continue
		}
		for _, k := range kits {
			if path := g.Path(p, k); path != nil {
				t.Errorf("%s ships and must not depend on the test kit %s: %s", p, k, strings.Join(path, " -> "))
			}
		}
	}
	// cmd/deb2fs stays thin: main imports the CLI and nothing else of the
	// module.
	for _, imp := range g[m+"cmd/deb2fs"] {
		if strings.HasPrefix(imp, m) && imp != m+"internal/cli" {
			t.Errorf("cmd/deb2fs imports %s: only internal/cli", imp)
		}
	}
}

func isKit(p string) bool {
	for _, k := range kits {
		base, tree := strings.CutSuffix(k, "/...")
		if p == base || tree && strings.HasPrefix(p, base+"/") {
			return true
		}
	}
	return false
}

// TestCheckFindsIndirectArrows: a forbidden dependency two imports away
// is reported with its chain; an allowed one is not; "/..." covers the
// packages below.
func TestCheckFindsIndirectArrows(t *testing.T) {
	g := Graph{
		"x/compose":        {"x/index", "x/compose/rootfs"},
		"x/compose/rootfs": {"x/store"},
		"x/index":          {"x/store", "x/mirror/helper"},
		"x/mirror/helper":  {"x/archive"},
		"x/store":          nil,
	}
	got := Check(g, []Rule{
		{From: "x/compose/...", Not: []string{"x/archive"}, Why: "w"},
		{From: "x/store", Not: []string{"x/compose/..."}, Why: "w"},
		{From: "x/index", Not: []string{"x/mirror/..."}, Why: "w"},
		{From: "x/index", Not: []string{"x/mirror"}, Why: "exact only"},
	})
	want := []string{
		"x/compose must not depend on x/archive (w): x/compose -> x/index -> x/mirror/helper -> x/archive",
		"x/index must not depend on x/mirror/... (w): x/index -> x/mirror/helper",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Check:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if msgs := Check(g, []Rule{{From: "x/none", Not: []string{"x/store"}}}); len(msgs) != 1 || !strings.Contains(msgs[0], "matches no package") {
		t.Errorf("a rule matching nothing: %v", msgs)
	}
}

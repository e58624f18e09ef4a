package mirror

import (
	"reflect"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/resolve"
)

// importantUniverse is a universe where Suggests and Important decide the
// answer. app's first choice snd-a gives way to fan, which conflicts with
// it; a-lib, which only snd-a needed, is then swept away unless a Suggests
// (keeper's) or its own Important: yes keeps it. need's virtual v has two
// equal providers: p-a, Protected: yes (Important for apt), wins; without
// it the last one in the universe, p-b, would.
const importantUniverse = `Package: app
Version: 1.0
Architecture: amd64
Depends: snd-a | snd-b, later

Package: snd-a
Version: 1.0
Architecture: amd64
Depends: a-lib

Package: a-lib
Version: 1.0
Architecture: amd64
%A-LIB%

Package: snd-b
Version: 1.0
Architecture: amd64

Package: later
Version: 1.0
Architecture: amd64
Depends: fan

Package: fan
Version: 1.0
Architecture: amd64
Conflicts: snd-a
Depends: snd-b

Package: keeper
Version: 1.0
Architecture: all
Suggests: a-lib

Package: need
Version: 1.0
Architecture: amd64
Depends: v

Package: p-a
Version: 1.0
Architecture: amd64
Provides: v
Protected: yes

Package: p-b
Version: 1.0
Architecture: amd64
Provides: v
`

// TestIndexResolveImportantSuggests: Index.Resolve over an index that went
// through the codec (and its fast entry parser) gives the answers that
// depend on Suggests and Important — the same as resolve over the archive
// scanner's packages — and other answers when the index lacks the fields,
// as an index of a deb2fs before them did.
func TestIndexResolveImportantSuggests(t *testing.T) {
	for _, tc := range []struct {
		aLib    string // a-lib's extra field
		install []string
		want    string
		without string // the answer when the index lacks Suggests and Important
	}{
		{"", []string{"app"}, "app fan later snd-b", ""},
		{"", []string{"app", "keeper"}, "a-lib app fan keeper later snd-b", "app fan keeper later snd-b"},
		{"Important: yes", []string{"app"}, "a-lib app fan later snd-b", "app fan later snd-b"},
		{"", []string{"need"}, "need p-a", "need p-b"},
	} {
		name := strings.Join(tc.install, "+") + " " + tc.aLib
		t.Run(name, func(t *testing.T) {
			text := strings.Replace(importantUniverse, "%A-LIB%\n", tc.aLib+"\n", 1)
			ps, err := archive.ReadPackages(strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			ix := &Index{Format: IndexFormat}
			rps := make([]resolve.Package, len(ps))
			for i := range ps {
				e := EntryOf(&ps[i])
				e.Layer = sampleIndex().Packages[0].Layer
				ix.Packages = append(ix.Packages, e)
				rps[i] = resolve.Package{Name: ps[i].Name, Version: ps[i].Version, Architecture: ps[i].Architecture,
					Important: ps[i].Important, Depends: ps[i].Depends, Suggests: ps[i].Suggests,
					Provides: ps[i].Provides, Conflicts: ps[i].Conflicts}
			}
			blob, err := encodeIndex(ix)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeIndex(blob)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Packages, ix.Packages) {
				t.Fatalf("codec round trip:\n got %+v\nwant %+v", got.Packages, ix.Packages)
			}
			req := resolve.Request{Base: resolve.BaseNone, Install: tc.install}
			if s := resolveNames(t, got, req); s != tc.want {
				t.Errorf("Index.Resolve: %s, want %s", s, tc.want)
			}
			// The resolver over the scanner's packages agrees.
			u, err := resolve.NewUniverse("amd64", rps)
			if err != nil {
				t.Fatal(err)
			}
			r, err := u.Resolve(req)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(r.Names(), " "); s != tc.want {
				t.Errorf("resolve over the archive's packages: %s, want %s", s, tc.want)
			}
			// The fields decide it: without them (an index of an older
			// deb2fs) the answer is another.
			if tc.without != "" {
				for i := range got.Packages {
					got.Packages[i].Suggests, got.Packages[i].Important = "", false
				}
				if s := resolveNames(t, got, req); s != tc.without {
					t.Errorf("without Suggests and Important: %s, want %s", s, tc.without)
				}
			}
		})
	}
}

func resolveNames(t *testing.T, ix *Index, req resolve.Request) string {
	t.Helper()
	es, err := ix.Resolve(req, "")
	if err != nil {
		t.Fatalf("Resolve(%v): %v", req.Install, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Package)
	}
	return strings.Join(out, " ")
}

// TestEntryCarriesResolveFields: every field of resolve.Package survives
// archive.Package -> EntryOf -> ResolvePackage, so a field the resolver
// gains and the index lacks (as Suggests and Important once were) fails
// here.
func TestEntryCarriesResolveFields(t *testing.T) {
	var p archive.Package
	pv := reflect.ValueOf(&p).Elem()
	for i := range pv.NumField() {
		switch f := pv.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("x" + pv.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int64:
			f.SetInt(1)
		}
	}
	e := EntryOf(&p)
	rp := e.ResolvePackage()
	rv := reflect.ValueOf(rp)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("resolve.Package.%s is empty: the index entry does not carry it", rv.Type().Field(i).Name)
		}
	}
	ev := reflect.ValueOf(e)
	for i := range ev.NumField() {
		switch n := ev.Type().Field(i).Name; n {
		case "Origin", "Layer": // not from the package
		default:
			if ev.Field(i).IsZero() {
				t.Errorf("Entry.%s is empty: EntryOf does not fill it", n)
			}
		}
	}
}

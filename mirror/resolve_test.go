package mirror

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/resolve"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
			ix := &index.Index{Format: index.FormatVersion}
			rps := make([]resolve.Package, len(ps))
			for i := range ps {
				e := EntryOf(&ps[i])
				e.Layer = sampleLayer()
				ix.Packages = append(ix.Packages, e)
				rps[i] = resolve.Package{Name: ps[i].Name, Version: ps[i].Version, Architecture: ps[i].Architecture,
					Important: ps[i].Important, Depends: ps[i].Depends, Suggests: ps[i].Suggests,
					Provides: ps[i].Provides, Conflicts: ps[i].Conflicts}
			}
			got := roundTrip(t, ix)
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

func resolveNames(t *testing.T, ix *index.Index, req resolve.Request) string {
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
// archive.Package -> EntryIn -> ResolvePackage, so a field the resolver
// gains and the index lacks (as Suggests and Important once were) fails
// here; and EntryIn fills every field of Entry but the origin and layer.
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
	e := EntryIn(&p, ArchiveOrder(&archive.Index{Packages: []archive.Package{p}}))
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
				t.Errorf("Entry.%s is empty: EntryIn does not fill it", n)
			}
		}
	}
}

// orderLists are two Packages lists, as a suite and its updates suite
// would have them, whose order is not the names' order. app needs the
// virtual v, which three equal packages provide. The lists meet their
// names in the order app, m-prov, z-prov, a-prov; the updates list has a
// newer m-prov, which wins the merge, but m-prov's place is still that of
// its first stanza. apt (and resolve over the lists as they are) prefers
// the provider whose name comes last: a-prov. Sorted by name, z-prov
// would come last; and had m-prov taken its place in the updates list, it
// would.
var orderLists = []string{`Package: app
Version: 1.0
Architecture: amd64
Depends: v

Package: m-prov
Version: 1.0
Architecture: amd64
Provides: v

Package: z-prov
Version: 1.0
Architecture: all
Provides: v

Package: a-prov
Version: 1.0
Architecture: amd64
Provides: v
`, `Package: m-prov
Version: 1.1
Architecture: amd64
Provides: v
`}

// TestIndexResolveArchiveOrder: the index is sorted by name, but its
// entries keep the archive's order (Seq, from ArchiveOrder over the lists
// in order, as a mirror run numbers them), and Index.Resolve, after the
// codec, decides between equal providers as resolve does over the lists as
// they are, which is apt's order. An index without Seq (an older deb2fs)
// resolves in its own order, as before.
func TestIndexResolveArchiveOrder(t *testing.T) {
	var lists []*archive.Index
	var raw []resolve.Package
	for _, text := range orderLists {
		ps, err := archive.ReadPackages(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, &archive.Index{Packages: ps})
		for i := range ps {
			e := EntryOf(&ps[i])
			raw = append(raw, e.ResolvePackage())
		}
	}
	order := ArchiveOrder(lists...)
	if want := map[string]int{"app": 1, "m-prov": 2, "z-prov": 3, "a-prov": 4}; !reflect.DeepEqual(order, want) {
		t.Fatalf("ArchiveOrder %v, want %v", order, want)
	}
	merged, err := archive.Merge(lists...)
	if err != nil {
		t.Fatal(err)
	}
	ix := &index.Index{Format: index.FormatVersion}
	for _, p := range merged {
		e := EntryIn(p, order)
		e.Layer = sampleLayer()
		ix.Packages = append(ix.Packages, e)
	}
	got := roundTrip(t, ix)
	if !reflect.DeepEqual(got.Packages, ix.Packages) {
		t.Fatalf("codec round trip:\n got %+v\nwant %+v", got.Packages, ix.Packages)
	}
	var seqs []string
	for _, e := range got.Packages {
		seqs = append(seqs, fmt.Sprintf("%s=%s@%d", e.Package, e.Version, e.Seq))
	}
	if s := strings.Join(seqs, " "); s != "a-prov=1.0@4 app=1.0@1 m-prov=1.1@2 z-prov=1.0@3" {
		t.Errorf("index entries %s", s)
	}

	req := resolve.Request{Base: resolve.BaseNone, Install: []string{"app"}}
	u, err := resolve.NewUniverse("amd64", raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := u.Resolve(req)
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(r.Names(), " "); s != "a-prov app" {
		t.Fatalf("resolve over the lists: %s, want a-prov app", s)
	}
	if s := resolveNames(t, got, req); s != "a-prov app" {
		t.Errorf("Index.Resolve: %s, want a-prov app (the lists' answer)", s)
	}
	// The same entries in another order resolve the same.
	slices.Reverse(got.Packages)
	if s := resolveNames(t, got, req); s != "a-prov app" {
		t.Errorf("Index.Resolve over the entries reversed: %s, want a-prov app", s)
	}
	slices.Reverse(got.Packages)

	// Without Seq, the index's own order, by name: z-prov comes last.
	old := &index.Index{Format: index.FormatVersion, Packages: slices.Clone(got.Packages)}
	for i := range old.Packages {
		old.Packages[i].Seq = 0
	}
	if s := resolveNames(t, old, req); s != "app z-prov" {
		t.Errorf("Index.Resolve without Seq: %s, want app z-prov (the index's order)", s)
	}
	// Entries without Seq go after those with it, in the index's order:
	// with only app's and z-prov's, z-prov's name comes after every other.
	for i := range old.Packages {
		if p := old.Packages[i].Package; p == "app" || p == "z-prov" {
			old.Packages[i].Seq = got.Packages[i].Seq
		}
	}
	var in []string
	for _, p := range index.ResolvePackages(old.Packages) {
		in = append(in, p.Name)
	}
	if s := strings.Join(in, " "); s != "app z-prov a-prov m-prov" {
		t.Errorf("resolver input %s, want app z-prov a-prov m-prov", s)
	}
	if s := resolveNames(t, old, req); s != "app m-prov" {
		t.Errorf("Index.Resolve with Seq on app and z-prov only: %s, want app m-prov", s)
	}
}

// sampleLayer is a layer locator with made-up digests.
func sampleLayer() index.Layer {
	h := func(c byte) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(string(c), 64)} }
	return index.Layer{Digest: h('a'), DiffID: h('b'), Size: 7, MediaType: types.OCILayer, Manifest: h('c')}
}

// roundTrip encodes ix as an index blob and decodes it again.
func roundTrip(t testing.TB, ix *index.Index) *index.Index {
	t.Helper()
	blob, err := index.Encode(ix)
	if err != nil {
		t.Fatal(err)
	}
	got, err := index.Decode(blob)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

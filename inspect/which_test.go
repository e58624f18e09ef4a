package inspect_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/store"
)

// versions builds a store holding libedge1 at three versions and the
// images old (1.0), new (2.0~rc1 plus an added package, one removed) and
// epoch (1:0.5), in the store itself.
func versions(t *testing.T) (*store.Store, map[string]*convert.Layer) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	ls := inspecttest.ConvertDebs(t, st,
		inspecttest.EdgeDeb(t, "multiarch-same"),
		inspecttest.EdgeDeb(t, "multiarch-same", "Version: 2.0~rc1"),
		inspecttest.EdgeDeb(t, "multiarch-same", "Version: 1:0.5"),
		inspecttest.EdgeDeb(t, "hardlinks"), inspecttest.EdgeDeb(t, "no-md5sums"), inspecttest.EdgeDeb(t, "conffiles"))
	by := map[string]*convert.Layer{}
	for _, l := range ls {
		by[l.Package+"="+l.Version] = l
	}
	inspecttest.BuildImage(t, st, st.Dir(), "old", inspecttest.Single(by["edge-hardlinks=1.0"]), inspecttest.Single(by["libedge1=1.0"]), inspecttest.Single(by["edge-nomd5=1.0"]))
	inspecttest.BuildImage(t, st, st.Dir(), "new", inspecttest.Single(by["edge-hardlinks=1.0"]), inspecttest.Single(by["libedge1=2.0~rc1"]), inspecttest.Single(by["edge-conffiles=1.0"]))
	inspecttest.BuildImage(t, st, st.Dir(), "epoch", inspecttest.Part{Group: "all", Pkgs: []*convert.Layer{by["edge-hardlinks=1.0"], by["libedge1=1:0.5"]}})
	return st, by
}

func TestWhich(t *testing.T) {
	st, _ := versions(t)
	cat, _ := inspect.NewCatalog(st)
	o := &inspect.Opener{Store: st, Catalog: cat}
	ims, errs := o.LayoutImages(st.Dir())
	if len(errs) > 0 || len(ims) != 3 {
		t.Fatalf("%d images, %v", len(ims), errs)
	}
	for _, tc := range []struct{ query, want string }{
		{"libedge1", "epoch new old"},
		{"libedge1=1.0", "old"},
		{"libedge1<<2.0", "new old"},     // 2.0~rc1 sorts before 2.0, 1:0.5 after
		{"libedge1<<2.0~", "old"},        // 2.0~ sorts before 2.0~rc1
		{"libedge1>>1.0", "epoch new"},   // 2.0~rc1 and 1:0.5 (the epoch wins)
		{"libedge1>=1:0", "epoch"},       // only the epoch'd version
		{"libedge1<=1.0", "old"},         //
		{"libedge1>=1.0,<<3", "new old"}, // a range
		{"edge-nomd5", "old"},
		{"edge-hardlinks>=1.0", "epoch new old"},
		{"nothere", ""},
	} {
		q, err := inspect.ParseQuery(tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		var got []string
		for _, h := range inspect.Which(ims, q) {
			got = append(got, h.Image.Ref[strings.LastIndex(h.Image.Ref, ":")+1:])
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("which %s: %q, want %q", tc.query, strings.Join(got, " "), tc.want)
		}
	}
	// By source package: edge-modes's source is edge-src.
	q, _ := inspect.ParseQuery("libedge1")
	q.Source = true
	if hits := inspect.Which(ims, q); len(hits) != 3 {
		t.Errorf("which --source libedge1 (its own source): %d hits", len(hits))
	}
	for _, bad := range []string{"", "=1.0", "x<<", "x<>1", "x=1.0 y"} {
		if _, err := inspect.ParseQuery(bad); err == nil {
			t.Errorf("ParseQuery(%q) accepted", bad)
		}
	}
}

func TestDiff(t *testing.T) {
	st, by := versions(t)
	o := &inspect.Opener{Store: st}
	old, err := o.Open(context.Background(), "old")
	if err != nil {
		t.Fatal(err)
	}
	new, err := o.Open(context.Background(), "new")
	if err != nil {
		t.Fatal(err)
	}
	d := inspect.Compare(old, new)
	if len(d.Added) != 1 || d.Added[0].Name != "edge-conffiles" {
		t.Errorf("added %+v", d.Added)
	}
	if len(d.Removed) != 1 || d.Removed[0].Name != "edge-nomd5" {
		t.Errorf("removed %+v", d.Removed)
	}
	if len(d.Changed) != 1 || d.Changed[0].Name != "libedge1" || d.Changed[0].Old.Version != "1.0" || d.Changed[0].New.Version != "2.0~rc1" {
		t.Errorf("changed %+v", d.Changed)
	}
	if d.Unchanged != 1 {
		t.Errorf("unchanged %d, want 1", d.Unchanged)
	}
	// New layers: the two new package layers, base and configure (random
	// in these images); bytes include the config and the manifest.
	var want int64
	newLayers := map[string]bool{}
	for _, l := range d.NewLayers {
		newLayers[l.Digest.String()] = true
		want += l.Size
	}
	if !newLayers[by["libedge1=2.0~rc1"].Digest.String()] || !newLayers[by["edge-conffiles=1.0"].Digest.String()] || newLayers[by["edge-hardlinks=1.0"].Digest.String()] {
		t.Errorf("new layers %v", newLayers)
	}
	if d.NewBytes != want+new.ConfigSize+new.ManifestSize {
		t.Errorf("new bytes %d, want %d", d.NewBytes, want+new.ConfigSize+new.ManifestSize)
	}
	if e := inspect.Compare(old, old); !e.Empty() || len(e.NewLayers) != 0 || e.NewBytes != 0 {
		t.Errorf("an image compared with itself: %+v", e)
	}
}

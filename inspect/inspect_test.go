package inspect_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/store"
)

// testSet is a store of converted edge-case packages and a composed-like
// image over them in its own layout, its layer blobs deleted.
type testSet struct {
	st     *store.Store
	dir    string // the image's layout
	layers map[string]*convert.Layer
	img    v1.Image
}

func newTestSet(t *testing.T) *testSet {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	ls := inspecttest.ConvertDebs(t, st,
		inspecttest.EdgeDeb(t, "hardlinks"), inspecttest.EdgeDeb(t, "multiarch-same"), inspecttest.EdgeDeb(t, "conffiles"),
		inspecttest.EdgeDeb(t, "special-modes", "Source: edge-src (1.0-3)"), inspecttest.EdgeDeb(t, "no-md5sums"))
	ts := &testSet{st: st, dir: filepath.Join(t.TempDir(), "image"), layers: map[string]*convert.Layer{}}
	for _, l := range ls {
		ts.layers[l.Package] = l
	}
	ts.img = inspecttest.BuildImage(t, st, ts.dir, "edge",
		inspecttest.Single(ts.layers["edge-hardlinks"]),
		inspecttest.Single(ts.layers["libedge1"]),
		inspecttest.Part{Group: "packages-edge-conffiles-edge-nomd5", Pkgs: []*convert.Layer{ts.layers["edge-conffiles"], ts.layers["edge-modes"], ts.layers["edge-nomd5"]}})
	inspecttest.RemoveBlobs(t, ts.dir, inspecttest.LayerDigests(t, ts.img))
	return ts
}

// TestInspectLayout reads the packages of an image whose layer blobs are
// gone: everything comes from the manifest, the config and (for what a
// group's annotation leaves out) the store's index.json.
func TestInspectLayout(t *testing.T) {
	ts := newTestSet(t)
	cat, err := inspect.NewCatalog(ts.st)
	if err != nil {
		t.Fatal(err)
	}
	o := &inspect.Opener{Catalog: cat}
	im, err := o.Open(context.Background(), "oci:"+ts.dir+":edge")
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Warnings) > 0 {
		t.Errorf("warnings: %v", im.Warnings)
	}
	if !im.Composed {
		t.Error("not recognised as a composed image")
	}
	layers := inspecttest.LayerDigests(t, ts.img)
	kinds := []string{}
	for _, l := range im.Layers {
		kinds = append(kinds, l.Kind)
	}
	if got := strings.Join(kinds, " "); got != "base package package group configure" {
		t.Errorf("layer kinds %q", got)
	}
	type row struct{ name, version, arch, source string }
	want := map[string]row{}
	for _, l := range ts.layers {
		want[l.Package] = row{l.Package, l.Version, l.Architecture, l.Source}
	}
	if len(im.Packages) != len(want) {
		t.Fatalf("%d packages, want %d: %+v", len(im.Packages), len(want), im.Packages)
	}
	for i, p := range im.Packages {
		if i > 0 && im.Packages[i-1].Name > p.Name {
			t.Errorf("packages not sorted: %s before %s", im.Packages[i-1].Name, p.Name)
		}
		w := want[p.Name]
		if (row{p.Name, p.Version, p.Architecture, p.Source}) != w {
			t.Errorf("%s: got %+v, want %+v", p.Name, p, w)
		}
		if p.DebSHA256 != ts.layers[p.Name].DebSHA256 {
			t.Errorf("%s: deb sha256 %q", p.Name, p.DebSHA256)
		}
		wantLayer, group := ts.layers[p.Name].Digest, ""
		switch p.Name {
		case "edge-conffiles", "edge-modes", "edge-nomd5":
			wantLayer, group = layers[3], "packages-edge-conffiles-edge-nomd5"
		}
		if p.Layer != wantLayer || p.Group != group {
			t.Errorf("%s: layer %s group %q, want %s %q", p.Name, p.Layer, p.Group, wantLayer, group)
		}
	}
	if ps := im.Find("edge-modes"); len(ps) != 1 || ps[0].Source != "edge-src" || ps[0].Architecture != runtime.GOARCH {
		t.Errorf("edge-modes: %+v (source from the store's annotation, native architecture)", ps)
	}

	// Without a catalog, group members have no architecture and no
	// source; packages with their own layer keep what compose annotates.
	im, err = (&inspect.Opener{}).Open(context.Background(), "oci:"+ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range im.Packages {
		if (p.Group != "") != (p.Architecture == "") {
			t.Errorf("without a catalog: %+v", p)
		}
	}
}

// TestInspectStoreTag reads an image tagged in the store itself by its
// bare tag and by its digest, after its layer blobs are removed.
func TestInspectStoreTag(t *testing.T) {
	ts := newTestSet(t)
	img := inspecttest.BuildImage(t, ts.st, ts.st.Dir(), "compose-edge", inspecttest.Single(ts.layers["edge-hardlinks"]), inspecttest.Single(ts.layers["edge-nomd5"]))
	inspecttest.RemoveBlobs(t, ts.st.Dir(), inspecttest.LayerDigests(t, img))
	o := &inspect.Opener{Store: ts.st}
	digest, _ := img.Digest()
	for _, ref := range []string{"compose-edge", digest.String()} {
		im, err := o.Open(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if im.Digest != digest || len(im.Packages) != 2 || im.Packages[0].Name != "edge-hardlinks" {
			t.Errorf("%s: %s %+v", ref, im.Digest, im.Packages)
		}
	}
	if _, err := o.Open(context.Background(), "no-such-tag"); err == nil {
		t.Error("an unknown tag opened")
	}
	// LayoutImages skips the store's package images.
	ims, errs := o.LayoutImages(ts.st.Dir())
	if len(errs) > 0 || len(ims) != 1 || !strings.HasSuffix(ims[0].Ref, ":compose-edge") {
		t.Errorf("LayoutImages of the store: %d images %v", len(ims), errs)
	}
}

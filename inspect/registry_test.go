package inspect_test

import (
	"context"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/internal/registrytest"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
)

// TestInspectRegistry pushes two images to a docker-registry on
// 127.0.0.1 and reads them through a proxy that records every request:
// inspect asks for the manifest and the config blob, which for every tag
// of a repository asks for the tag list, and neither ever asks for a
// layer blob (GET or HEAD).
func TestInspectRegistry(t *testing.T) {
	reg := registrytest.Start(t).Addr
	ts := newTestSet(t)
	// The test set's image lost its layer blobs; build the images to push
	// into a layout that keeps them.
	src := t.TempDir()
	imgs := map[string]v1.Image{
		"one": inspecttest.BuildImage(t, ts.st, src, "one", inspecttest.Single(ts.layers["edge-hardlinks"]), inspecttest.Single(ts.layers["libedge1"])),
		"two": inspecttest.BuildImage(t, ts.st, src, "two", inspecttest.Single(ts.layers["edge-hardlinks"]),
			inspecttest.Part{Group: "g", Pkgs: []*convert.Layer{ts.layers["edge-conffiles"], ts.layers["edge-nomd5"]}}),
	}
	layers := map[string]bool{}
	for tag, img := range imgs {
		ref, err := name.ParseReference(reg + "/deb2fs/edge:" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		for _, h := range inspecttest.LayerDigests(t, img) {
			layers[h.String()] = true
		}
	}
	proxy := registrytest.NewCountingProxy(t, reg)
	cat, err := inspect.NewCatalog(ts.st)
	if err != nil {
		t.Fatal(err)
	}
	o := &inspect.Opener{Catalog: cat}
	checkNoLayer := func(what string, want int) {
		t.Helper()
		reqs := proxy.Requests()
		configs := 0
		for _, r := range reqs {
			i := strings.Index(r, "/blobs/")
			if i < 0 {
				continue
			}
			if layers[r[i+len("/blobs/"):]] {
				t.Errorf("%s fetched a layer blob: %s", what, r)
			} else {
				configs++
			}
		}
		if configs != want {
			t.Errorf("%s: %d config blob requests, want %d: %v", what, configs, want, reqs)
		}
		t.Logf("%s: %d requests: %v", what, len(reqs), reqs)
	}

	im, err := o.Open(context.Background(), proxy.Addr+"/deb2fs/edge:two")
	if err != nil {
		t.Fatal(err)
	}
	checkNoLayer("inspect", 1)
	if d, _ := imgs["two"].Digest(); im.Digest != d {
		t.Errorf("digest %s, want %s", im.Digest, d)
	}
	var names []string
	for _, p := range im.Packages {
		names = append(names, p.Name+"/"+p.Architecture+"/"+p.Group)
	}
	if got := strings.Join(names, " "); got != "edge-conffiles/all/g edge-hardlinks/all/ edge-nomd5/all/g" {
		t.Errorf("packages %s", got)
	}

	ims, errs := o.RepoImages(context.Background(), "docker://"+proxy.Addr+"/deb2fs/edge")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	checkNoLayer("every tag", 2)
	q, _ := inspect.ParseQuery("libedge1>=1.0")
	hits := inspect.Which(ims, q)
	if len(hits) != 1 || !strings.HasSuffix(hits[0].Image.Ref, ":one") {
		t.Errorf("which libedge1>=1.0 over the repository: %+v", hits)
	}
}

package compose

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Two images share every package layer they have in common, by digest, and
// the canonical order makes the shared layers a common prefix (after the
// shared base layer) that covers at least the essential set.
func TestSharedLayers(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	var imgs []*Image
	for _, names := range [][]string{{"nginx", "openssh-server"}, {"nginx"}} {
		req := resolve.Request{Install: names}
		img, err := Compose(context.Background(), Options{Packages: hostSet(t, s, req), Request: req, Store: s,
			Output: output.Layout{Dir: t.TempDir()}})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	layerOf := func(img *Image) map[string]string {
		m := map[string]string{}
		for _, e := range img.Packages {
			m[e.Package] = e.Layer.Digest.String()
		}
		return m
	}
	a, b := layerOf(imgs[0]), layerOf(imgs[1])
	common := 0
	for p, d := range b {
		if da, ok := a[p]; ok {
			common++
			if da != d {
				t.Errorf("%s: layer %s in one image, %s in the other", p, da, d)
			}
		}
	}
	prefix := 0
	for i := range imgs[1].Layers {
		if i >= len(imgs[0].Layers) || imgs[0].Layers[i].Digest != imgs[1].Layers[i].Digest {
			break
		}
		prefix++
	}
	essential := 0
	for _, e := range imgs[1].Packages {
		if e.Essential {
			essential++
		}
	}
	t.Logf("%d and %d packages, %d in common; common layer prefix %d (base + %d essential)",
		len(imgs[0].Packages), len(imgs[1].Packages), common, prefix, essential)
	if prefix < 1+essential {
		t.Errorf("common prefix %d layers, want at least the base and the %d essential packages", prefix, essential)
	}
}

// blobPath is where the OCI layout in dir keeps blob h.
func blobPath(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

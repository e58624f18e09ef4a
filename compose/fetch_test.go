package compose

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// tamperBlobs flips a byte of every blob a registry sends.
type tamperBlobs struct{ next http.RoundTripper }

func (tb tamperBlobs) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tb.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/blobs/sha256:") || resp.StatusCode != 200 {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(data) > 100 {
		data[100] ^= 0xff
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// Layers a store lacks are fetched from a registry mirror (LayersFrom)
// and the image is the one composed from the full store; a registry that
// sends other bytes fails the compose naming the package and the layer,
// and leaves no blob or temporary file in the store.
func TestComposeFetchLayers(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"hello"}}
	es := hostSet(t, s, req)
	ref, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s, Output: output.Store{Tag: "fetch-hello"}})
	if err != nil {
		t.Fatal(err)
	}
	addr := startRegistry(t)
	publishPackageLayers(t, s, ref, addr+"/deb2fs/mirror")

	// Tampered: nothing lands in the store.
	empty := emptyStore(t)
	_, err = Compose(context.Background(), Options{Packages: es, Request: req, Store: empty, LayersFrom: addr + "/deb2fs/mirror",
		LayersTransport: tamperBlobs{remote.DefaultTransport}, Output: output.Layout{Dir: t.TempDir(), Tag: "hello"}})
	if err == nil || !strings.Contains(err.Error(), "from "+addr+"/deb2fs/mirror") || !strings.Contains(err.Error(), "layer sha256:") {
		t.Fatalf("tampered registry: %v", err)
	}
	t.Logf("tampered: %v", err)
	for _, e := range es {
		if empty.Layout().HasBlob(e.Layer.Digest, e.Layer.Size) {
			t.Errorf("%s: a layer from the tampered registry is in the store", e.Package)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(empty.Dir(), "deb2fs", "tmp", "*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Honest: every layer fetched, the same image.
	var logs []string
	img, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: empty, LayersFrom: addr + "/deb2fs/mirror",
		Output: output.Layout{Dir: t.TempDir(), Tag: "hello"}, Logf: func(f string, a ...any) { logs = append(logs, f) }})
	if err != nil {
		t.Fatal(err)
	}
	if img.Manifest.Digest != ref.Manifest.Digest {
		t.Errorf("image %s, want %s", img.Manifest.Digest, ref.Manifest.Digest)
	}
	for _, e := range es {
		if !empty.Layout().HasBlob(e.Layer.Digest, e.Layer.Size) {
			t.Errorf("%s: layer not fetched", e.Package)
		}
	}
	// Without a source, a missing layer is an error naming it.
	bare := emptyStore(t)
	_, err = Compose(context.Background(), Options{Packages: []index.Entry{es[0]}, Store: bare, Output: output.Layout{Dir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), es[0].Package) || !strings.Contains(err.Error(), "not in the store") {
		t.Errorf("missing layer without a source: %v", err)
	}
}

// emptyStore opens a new store with no layers.
func emptyStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

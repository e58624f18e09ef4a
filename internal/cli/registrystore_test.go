package cli_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/registrytest"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// rawManifest is a manifest to put as it is.
type rawManifest struct {
	data []byte
	mt   types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.data, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// TestComposeFromRegistryMirror: with --store REGISTRY/REPO (a registry
// mirror: package layers and the index artifact), compose reads the index
// from the registry, fetches the package layers into an empty --work
// store, and gives the image a compose over a local store of the same
// index gives; a second compose fetches nothing. Needs root (compose).
func TestComposeFromRegistryMirror(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compose needs root")
	}
	reg, local, st, es := registryMirror(t)
	repoName := reg + "/deb2fs/mirror"
	repo, err := name.NewRepository(repoName)
	if err != nil {
		t.Fatal(err)
	}
	put := func(d v1.Descriptor) {
		t.Helper()
		data, err := os.ReadFile(st.BlobPath(d.Digest))
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteLayer(repo, static.NewLayer(data, d.MediaType)); err != nil {
			t.Fatal(err)
		}
	}
	// The index artifact too, under deb2fs-index-latest.
	d, err := st.Resolve(index.LatestRef)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(st.BlobPath(d.Digest))
	if err != nil {
		t.Fatal(err)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	put(m.Config)
	put(m.Layers[0])
	if err := remote.Put(repo.Tag(index.LatestRef), rawManifest{raw, d.MediaType}); err != nil {
		t.Fatal(err)
	}

	compose := func(args ...string) (string, string) {
		t.Helper()
		o, e, code := run(t, append(append([]string{"compose"}, args...), "hello")...)
		if code != 0 {
			t.Fatalf("deb2fs compose %s: exit %d\n%s%s", strings.Join(args, " "), code, o, e)
		}
		return strings.Fields(o)[1], e
	}
	want, _ := compose("--store", local, "-o", "oci:"+filepath.Join(t.TempDir(), "a")+":hello")
	work := filepath.Join(t.TempDir(), "work")
	got, e := compose("--store", repoName, "--work", work, "-o", "oci:"+filepath.Join(t.TempDir(), "b")+":hello")
	if got != want {
		t.Errorf("from the registry mirror: image %s, from the local store %s", got, want)
	}
	if !strings.Contains(e, "fetched "+strconv.Itoa(len(es))+" package layers from "+repoName) {
		t.Errorf("want %d layers fetched:\n%s", len(es), e)
	}
	_, e = compose("--store", repoName, "--work", work, "-o", "oci:"+filepath.Join(t.TempDir(), "c")+":hello")
	if strings.Contains(e, "fetched") {
		t.Errorf("second compose fetched again:\n%s", e)
	}
	// A registry store needs no local index; a local --work without a
	// registry store is refused.
	if _, e, code := run(t, "compose", "--store", local, "--work", work, "hello"); code == 0 || !strings.Contains(e, "--work is for a registry --store") {
		t.Errorf("--work with a local store: exit %d, %s", code, e)
	}
}

// registryMirror starts a local docker-registry and makes a store holding
// the layers and a mirror index of hello's closure (from the fixtures'
// cache store), with every package layer also in the registry repository
// REG/deb2fs/mirror, as a registry mirror holds them. It returns the
// registry's address, the store's directory, the store and the entries.
func registryMirror(t *testing.T) (string, string, *store.Store, []index.Entry) {
	t.Helper()
	reg := registrytest.Start(t).Addr
	cache := hosttest.CacheStore(t)
	es := hosttest.HostSet(t, cache, resolve.Request{Install: []string{"hello"}})
	ix := &index.Index{Format: index.FormatVersion, Created: time.Unix(1700000000, 0).UTC(), Packages: es}
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	inspecttest.LinkLayers(t, cache, st, ix)
	inspecttest.PublishIndex(t, st, ix)
	repo, err := name.NewRepository(reg + "/deb2fs/mirror")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		data, err := os.ReadFile(st.BlobPath(e.Layer.Digest))
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteLayer(repo, static.NewLayer(data, e.Layer.MediaType)); err != nil {
			t.Fatal(err)
		}
	}
	return reg, dir, st, es
}

package inspecttest

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// PublishIndex lists ix in st as a mirror run publishes an index — an
// artifact manifest (artifactType index.ArtifactType, the empty config,
// the index as zstd-compressed JSON) tagged index.LatestRef and
// index.DatedRef(ix.Created) — so that index.Load and the deb2fs
// commands read it. (mirror's own publish is unexported; the blob is plain
// JSON, which LoadIndex also reads.)
func PublishIndex(t testing.TB, st *store.Store, ix *index.Index) {
	t.Helper()
	text, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := st.PutBlob(index.MediaType, zw.EncodeAll(text, nil))
	zw.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := st.PutBlob("application/vnd.oci.empty.v1+json", []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: index.ArtifactType,
		Config: cfg, Layers: []v1.Descriptor{layer},
		Annotations: map[string]string{imagespec.AnnotationIndexPackages: strconv.Itoa(len(ix.Packages))}}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	md, err := st.PutBlob(types.OCIManifestSchema1, data)
	if err != nil {
		t.Fatal(err)
	}
	md.ArtifactType = index.ArtifactType
	tag := func(ref string) v1.Descriptor {
		d := md
		d.Annotations = map[string]string{imagespec.AnnotationRefName: ref}
		return d
	}
	if err := st.PublishTagged(nil, []v1.Descriptor{tag(index.LatestRef), tag(index.DatedRef(ix.Created))}); err != nil {
		t.Fatal(err)
	}
}

// Snapshots are two mirror indexes of the closure of `hello` from the
// host's archive, their layers in the fixtures' cache store: in the
// second, zlib1g has a new version (the real .deb repacked with version
// OLD+deb2fs1), everything else is equal.
func Snapshots(t testing.TB) (idx1, idx2 *index.Index, oldV, newV string) {
	t.Helper()
	st := hosttest.CacheStore(t)
	es := hosttest.HostSet(t, st, resolve.Request{Install: []string{"hello"}})
	i := slices.IndexFunc(es, func(e index.Entry) bool { return e.Package == "zlib1g" })
	if i < 0 {
		t.Fatal("zlib1g is not in the closure of hello")
	}
	oldV = es[i].Version
	newV = oldV + "+deb2fs1"
	idx1 = &index.Index{Format: index.FormatVersion, Created: time.Unix(1700000000, 0).UTC(), Packages: es}
	es2 := slices.Clone(es)
	es2[i] = Rebuild(t, st, es[i], newV)
	idx2 = &index.Index{Format: index.FormatVersion, Created: time.Unix(1700086400, 0).UTC(), Packages: es2}
	return idx1, idx2, oldV, newV
}

// LinkLayers makes the layer blobs of the indexes' packages, kept in
// from, available in to (hard links).
func LinkLayers(t testing.TB, from, to *store.Store, idxs ...*index.Index) {
	t.Helper()
	for _, ix := range idxs {
		for _, e := range ix.Packages {
			if to.HasBlob(e.Layer.Digest) {
				continue
			}
			if err := os.Link(from.BlobPath(e.Layer.Digest), to.BlobPath(e.Layer.Digest)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

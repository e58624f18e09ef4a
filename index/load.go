package index

import (
	"bytes"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/store"
)

// Load reads the mirror index published in st under ref: LatestRef
// ("" means it), a dated ref (DatedRef), or the index manifest's digest
// ("sha256:…"). Every blob read is checked against its digest. The error
// matches store.ErrNoRef when the store holds no such index.
func Load(st *store.Store, ref string) (*Index, error) {
	ix, _, err := LoadWithDescriptor(st, ref)
	return ix, err
}

// LoadWithDescriptor also returns the manifest's descriptor.
func LoadWithDescriptor(st *store.Store, ref string) (*Index, v1.Descriptor, error) {
	if ref == "" {
		ref = LatestRef
	}
	d, err := st.Resolve(ref)
	if err != nil {
		return nil, d, fmt.Errorf("mirror index: %w", err)
	}
	data, err := st.ReadBlob(d)
	if err != nil {
		return nil, d, fmt.Errorf("mirror index %s: %w", ref, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		return nil, d, fmt.Errorf("mirror index %s: manifest %s: %w", ref, d.Digest, err)
	}
	if m.ArtifactType != ArtifactType || len(m.Layers) != 1 || m.Layers[0].MediaType != MediaType {
		return nil, d, fmt.Errorf("mirror index %s: manifest %s is not a deb2fs index (artifactType %q)", ref, d.Digest, m.ArtifactType)
	}
	blob, err := st.ReadBlob(m.Layers[0])
	if err != nil {
		return nil, d, fmt.Errorf("mirror index %s: %w", ref, err)
	}
	ix, err := Decode(blob)
	if err != nil {
		return nil, d, fmt.Errorf("mirror index %s (blob %s): %w", ref, m.Layers[0].Digest, err)
	}
	return ix, d, nil
}

// DatedRefs lists the dated copies of the index in st, oldest first: the
// refs compose can pin.
func DatedRefs(st *store.Store) ([]string, error) {
	return st.Refs(func(r string) bool { return strings.HasPrefix(r, DatedRefPrefix) && r != LatestRef })
}

// RemoteOf returns the registry repository (REGISTRY/REPO) that holds the
// index st lists under ref ("" is LatestRef; as for Load) and its
// layers, when st is the work store of a registry mirror (`deb2fs mirror
// --store REGISTRY/REPO --work DIR` lists the index it publishes in the
// work store too, annotated with imagespec.AnnotationMirrorRepository).
// ok is false when st has no such ref, or when its index was published
// into st itself (a layout mirror) or by a deb2fs that did not record the
// repository.
func RemoteOf(st *store.Store, ref string) (repo string, ok bool) {
	if ref == "" {
		ref = LatestRef
	}
	d, err := st.Resolve(ref)
	if err != nil {
		return "", false
	}
	repo = d.Annotations[imagespec.AnnotationMirrorRepository]
	return repo, repo != ""
}

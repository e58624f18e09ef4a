package index

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where the index lives in a store: an OCI artifact, i.e. an image
// manifest with artifactType ArtifactType, the empty config, and one
// layer, the index as zstd-compressed JSON (see codec.go). The manifest is listed in the
// layout's index.json twice: under LatestRef, which every run moves, and
// under a dated ref (DatedRefPrefix + YYYYMMDDTHHMMSSZ), which stays, so
// compose can pin a run. Being a manifest, it is kept by a registry's
// garbage collector like any image.
const (
	// LatestRef is the ref of the newest index.
	LatestRef = "deb2fs-index-latest"
	// DatedRefPrefix starts the ref of each run's dated copy.
	DatedRefPrefix = "deb2fs-index-"
	// ArtifactType is the index manifest's artifactType.
	ArtifactType = "application/vnd.deb2fs.mirror.index.v1"
	// MediaType is the media type of the index blob.
	MediaType types.MediaType = "application/vnd.deb2fs.mirror.index.v1+json+zstd"
)

// DatedRef is the ref of the dated copy of an index created at t.
func DatedRef(t time.Time) string { return DatedRefPrefix + t.UTC().Format("20060102T150405Z") }

// LoadRemote reads the mirror index tagged ref in a registry (or
// named by digest); every blob is checked against its digest.
func LoadRemote(ctx context.Context, ref name.Reference, opts ...remote.Option) (*Index, error) {
	ix, _, err := FetchRemote(ctx, ref, opts...)
	return ix, err
}

// Raw is an index artifact as a registry holds it: the manifest's
// bytes and digest, the index blob, and the index's created time (which
// names its dated tag). The work store gets the same bytes (copyLocal).
type Raw struct {
	Manifest []byte
	Digest   v1.Hash
	Blob     []byte
	Created  time.Time
}

// FetchRemote is LoadRemote, also returning the artifact's bytes.
func FetchRemote(ctx context.Context, ref name.Reference, opts ...remote.Option) (*Index, *Raw, error) {
	opts = append(opts, remote.WithContext(ctx))
	d, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("mirror index %s: %w", ref, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(d.Manifest))
	if err != nil {
		return nil, nil, fmt.Errorf("mirror index %s: %w", ref, err)
	}
	if m.ArtifactType != ArtifactType || len(m.Layers) != 1 || m.Layers[0].MediaType != MediaType {
		return nil, nil, fmt.Errorf("mirror index %s: manifest %s is not a deb2fs index (artifactType %q)", ref, d.Digest, m.ArtifactType)
	}
	l, err := remote.Layer(ref.Context().Digest(m.Layers[0].Digest.String()), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("mirror index %s: %w", ref, err)
	}
	rc, err := l.Compressed() // verified against the digest as it is read
	if err != nil {
		return nil, nil, fmt.Errorf("mirror index %s: %w", ref, err)
	}
	defer rc.Close()
	blob, err := io.ReadAll(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("mirror index %s: blob %s: %w", ref, m.Layers[0].Digest, err)
	}
	ix, err := Decode(blob)
	if err != nil {
		return nil, nil, fmt.Errorf("mirror index %s (blob %s): %w", ref, m.Layers[0].Digest, err)
	}
	return ix, &Raw{Manifest: d.Manifest, Digest: d.Digest, Blob: blob, Created: ix.Created}, nil
}

package mirror

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/store"
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
	// IndexMediaType is the media type of the index blob.
	IndexMediaType types.MediaType = "application/vnd.deb2fs.mirror.index.v1+json+zstd"
	// emptyMediaType is OCI's empty config for artifacts.
	emptyMediaType types.MediaType = "application/vnd.oci.empty.v1+json"
)

// DatedRef is the ref of the dated copy of an index created at t.
func DatedRef(t time.Time) string { return DatedRefPrefix + t.UTC().Format("20060102T150405Z") }

// publish writes the index blob and its manifest into st and, in one atomic
// rewrite of index.json, lists the package manifests of keys and points
// LatestRef and the dated ref at the index. Until that rename, readers see
// the previous index. It returns the manifest's descriptor and the number
// of bytes of new blobs.
func publish(st *store.Store, ix *Index, keys []convert.Key) (v1.Descriptor, int64, error) {
	// A dated ref never moves: two publications within one second get
	// consecutive seconds.
	for {
		if _, err := st.Resolve(DatedRef(ix.Created)); err != nil {
			break
		}
		ix.Created = ix.Created.Add(time.Second)
	}
	blob, err := encodeIndex(ix)
	if err != nil {
		return v1.Descriptor{}, 0, err
	}
	layer, err := st.PutBlob(IndexMediaType, blob)
	if err != nil {
		return v1.Descriptor{}, 0, fmt.Errorf("publish index: %w", err)
	}
	cfg, err := st.PutBlob(emptyMediaType, []byte("{}"))
	if err != nil {
		return v1.Descriptor{}, 0, fmt.Errorf("publish index: %w", err)
	}
	m := indexManifest(cfg, layer, ix)
	data, err := json.Marshal(m)
	if err != nil {
		return v1.Descriptor{}, 0, fmt.Errorf("publish index: %w", err)
	}
	md, err := st.PutBlob(types.OCIManifestSchema1, data)
	if err != nil {
		return v1.Descriptor{}, 0, fmt.Errorf("publish index: %w", err)
	}
	md.ArtifactType = ArtifactType
	crash(crashPublishBlob)
	tag := func(ref string) v1.Descriptor {
		d := md
		d.Annotations = map[string]string{imagespec.AnnotationRefName: ref, imagespec.AnnotationCreated: m.Annotations[imagespec.AnnotationCreated]}
		return d
	}
	if err := st.PublishTagged(keys, []v1.Descriptor{tag(LatestRef), tag(DatedRef(ix.Created))}); err != nil {
		return v1.Descriptor{}, 0, fmt.Errorf("publish index: %w", err)
	}
	return md, layer.Size + md.Size, nil
}

// indexManifest is the artifact manifest of an index whose blob is layer,
// with the empty config cfg.
func indexManifest(cfg, layer v1.Descriptor, ix *Index) v1.Manifest {
	layer.Annotations = map[string]string{imagespec.AnnotationTitle: "deb2fs-index.json.zst"}
	return v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  ArtifactType,
		Config:        cfg,
		Layers:        []v1.Descriptor{layer},
		Annotations: map[string]string{
			imagespec.AnnotationCreated:       ix.Created.UTC().Format(time.RFC3339),
			imagespec.AnnotationIndexPackages: strconv.Itoa(len(ix.Packages)),
			imagespec.AnnotationIndexInput:    ix.Input,
		},
	}
}

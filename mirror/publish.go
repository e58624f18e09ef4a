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
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// emptyMediaType is OCI's empty config for artifacts.
const emptyMediaType types.MediaType = "application/vnd.oci.empty.v1+json"

// publish writes the index blob and its manifest into st and, in one atomic
// rewrite of index.json, lists the package manifests of keys and points
// LatestRef and the dated ref at the index. Until that rename, readers see
// the previous index. It returns the manifest's descriptor and the number
// of bytes of new blobs.
func publish(st *store.Store, ix *index.Index, keys []convert.Key) (v1.Descriptor, int64, error) {
	// A dated ref never moves: two publications within one second get
	// consecutive seconds.
	for {
		if _, err := st.Resolve(index.DatedRef(ix.Created)); err != nil {
			break
		}
		ix.Created = ix.Created.Add(time.Second)
	}
	blob, err := index.Encode(ix)
	if err != nil {
		return v1.Descriptor{}, 0, err
	}
	layer, err := st.PutBlob(index.MediaType, blob)
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
	md.ArtifactType = index.ArtifactType
	crash(crashPublishBlob)
	tag := func(ref string) v1.Descriptor {
		d := md
		d.Annotations = map[string]string{imagespec.AnnotationRefName: ref, imagespec.AnnotationCreated: m.Annotations[imagespec.AnnotationCreated]}
		return d
	}
	if err := st.PublishTagged(keys, []v1.Descriptor{tag(index.LatestRef), tag(index.DatedRef(ix.Created))}); err != nil {
		return v1.Descriptor{}, 0, fmt.Errorf("publish index: %w", err)
	}
	return md, layer.Size + md.Size, nil
}

// indexManifest is the artifact manifest of an index whose blob is layer,
// with the empty config cfg.
func indexManifest(cfg, layer v1.Descriptor, ix *index.Index) v1.Manifest {
	layer.Annotations = map[string]string{imagespec.AnnotationTitle: "deb2fs-index.json.zst"}
	return v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  index.ArtifactType,
		Config:        cfg,
		Layers:        []v1.Descriptor{layer},
		Annotations: map[string]string{
			imagespec.AnnotationCreated:       ix.Created.UTC().Format(time.RFC3339),
			imagespec.AnnotationIndexPackages: strconv.Itoa(len(ix.Packages)),
			imagespec.AnnotationIndexInput:    ix.Input,
		},
	}
}

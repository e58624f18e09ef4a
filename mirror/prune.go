package mirror

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// Pruning (Options.Keep) bounds what nightly runs accumulate: the dated
// copies of the index beyond the newest Keep are untagged, and their index
// artifacts (manifest and index blob) deleted. Package layers are never
// deleted here: other images in the store (compose's) share them.

// pruneLayout untags the dated refs of st beyond the newest keep and
// removes their artifacts, unless another ref still points at them.
func pruneLayout(st *store.Store, keep int) ([]string, error) {
	refs, err := index.DatedRefs(st)
	if err != nil || len(refs) <= keep {
		return nil, err
	}
	sort.Strings(refs) // index.DatedRefPrefix + YYYYMMDDTHHMMSSZ: oldest first
	drop := refs[:len(refs)-keep]
	var artifacts []v1.Descriptor
	for _, r := range drop {
		d, err := st.Resolve(r)
		if err != nil {
			return nil, err
		}
		artifacts = append(artifacts, d)
	}
	if err := st.Untag(drop); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	for _, d := range artifacts {
		if used, err := st.Referenced(d.Digest); err != nil || used {
			continue
		}
		data, err := st.ReadBlob(d)
		if err != nil {
			continue
		}
		m, err := v1.ParseManifest(bytes.NewReader(data))
		if err != nil || m.ArtifactType != index.ArtifactType {
			continue // not ours: leave it
		}
		for _, l := range m.Layers {
			if err := st.RemoveBlob(l.Digest); err != nil {
				return drop, err
			}
		}
		if err := st.RemoveBlob(d.Digest); err != nil {
			return drop, err
		}
	}
	return drop, nil
}

// prune deletes the dated index manifests of the registry beyond the newest
// keep (a manifest is deleted by digest, which removes its tag; the one
// deb2fs-index-latest names is kept). The registry's garbage collector
// then removes their blobs.
func (t *remoteTarget) prune(ctx context.Context, keep int) ([]string, error) {
	opts := t.opts(ctx)
	tags, err := remote.List(t.rm.Repo, opts...)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", t, err)
	}
	var dated []string
	for _, tg := range tags {
		if strings.HasPrefix(tg, index.DatedRefPrefix) && tg != index.LatestRef {
			dated = append(dated, tg)
		}
	}
	if len(dated) <= keep {
		return nil, nil
	}
	sort.Strings(dated)
	latest, err := remote.Head(t.rm.Repo.Tag(index.LatestRef), opts...)
	if err != nil {
		return nil, fmt.Errorf("prune %s: %w", t, err)
	}
	var dropped []string
	for _, tg := range dated[:len(dated)-keep] {
		d, err := remote.Head(t.rm.Repo.Tag(tg), opts...)
		if err != nil {
			return dropped, fmt.Errorf("prune %s:%s: %w", t, tg, err)
		}
		if d.Digest == latest.Digest {
			continue
		}
		if err := remote.Delete(t.rm.Repo.Digest(d.Digest.String()), opts...); err != nil {
			return dropped, fmt.Errorf("prune %s:%s: %w", t, tg, err)
		}
		dropped = append(dropped, tg)
	}
	return dropped, nil
}

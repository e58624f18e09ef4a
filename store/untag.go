package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/imagespec"
)

// Untag removes the index.json entries with these ref names, in one atomic
// rewrite under the store's lock. Blobs are left alone: see RemoveBlob.
func (s *Store) Untag(refs []string) error {
	drop := map[string]bool{}
	for _, r := range refs {
		drop[r] = true
	}
	return s.layout.updateIndex(func(idx *v1.IndexManifest) error {
		kept := idx.Manifests[:0]
		for _, d := range idx.Manifests {
			if !drop[d.Annotations[imagespec.AnnotationRefName]] {
				kept = append(kept, d)
			}
		}
		idx.Manifests = kept
		return nil
	})
}

// Referenced reports whether an index.json entry points at digest h.
func (s *Store) Referenced(h v1.Hash) (bool, error) {
	idx, err := s.readIndex()
	if err != nil {
		return false, err
	}
	for _, d := range idx.Manifests {
		if d.Digest == h {
			return true, nil
		}
	}
	return false, nil
}

// RemoveBlob deletes a blob. The caller must know that nothing references
// it; a blob that is already gone is not an error.
func (s *Store) RemoveBlob(h v1.Hash) error {
	if err := os.Remove(s.BlobPath(h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store %s: remove blob %s: %w", s.dir, h, err)
	}
	return nil
}

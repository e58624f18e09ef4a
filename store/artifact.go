package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/imagespec"
)

// ErrNoRef is returned by Resolve when index.json names no such ref.
var ErrNoRef = errors.New("no such ref in the store")

// PutBlob writes data into the blob store and returns its descriptor with
// media type mt. The write is atomic and idempotent: a blob that is already
// there with the same bytes is left alone.
func (s *Store) PutBlob(mt types.MediaType, data []byte) (v1.Descriptor, error) {
	return s.layout.PutBytes(mt, data)
}

// ReadBlob reads the blob d describes and checks its size and digest.
func (s *Store) ReadBlob(d v1.Descriptor) ([]byte, error) {
	data, err := os.ReadFile(s.BlobPath(d.Digest))
	if err != nil {
		return nil, fmt.Errorf("store %s: blob %s: %w", s.dir, d.Digest, err)
	}
	if int64(len(data)) != d.Size {
		return nil, fmt.Errorf("store %s: blob %s: size %d, want %d", s.dir, d.Digest, len(data), d.Size)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); d.Digest.Algorithm != "sha256" || got != d.Digest.Hex {
		return nil, fmt.Errorf("store %s: blob %s: content hashes to sha256:%s", s.dir, d.Digest, got)
	}
	return data, nil
}

// HasBlob reports whether the blob with digest h is present.
func (s *Store) HasBlob(h v1.Hash) bool {
	fi, err := os.Stat(s.BlobPath(h))
	return err == nil && fi.Mode().IsRegular()
}

// LookupRecord returns the record stored under key: the layer and the
// descriptor of the package manifest that references it.
func (s *Store) LookupRecord(key convert.Key) (*Record, bool, error) {
	return s.record(key)
}

// Resolve returns the index.json entry whose ref name is ref, or one whose
// digest is ref ("sha256:…"). It fails with an error matching ErrNoRef when
// there is none.
func (s *Store) Resolve(ref string) (v1.Descriptor, error) {
	idx, err := s.readIndex()
	if err != nil {
		return v1.Descriptor{}, err
	}
	for _, d := range idx.Manifests {
		if d.Annotations[imagespec.AnnotationRefName] == ref || d.Digest.String() == ref {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("store %s: %q: %w", s.dir, ref, ErrNoRef)
}

// Refs returns the ref names in index.json that satisfy keep, sorted.
func (s *Store) Refs(keep func(ref string) bool) ([]string, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range idx.Manifests {
		if r := d.Annotations[imagespec.AnnotationRefName]; r != "" && keep(r) {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out, nil
}

// PublishTagged does what Publish does for keys and, in the same atomic
// rewrite of index.json, adds or replaces each of tagged by its ref name
// (the org.opencontainers.image.ref.name annotation, which each must
// carry). A reader of index.json sees all of it or none of it.
func (s *Store) PublishTagged(keys []convert.Key, tagged []v1.Descriptor) error {
	for _, d := range tagged {
		if d.Annotations[imagespec.AnnotationRefName] == "" {
			return fmt.Errorf("store %s: tagged descriptor %s has no ref name", s.dir, d.Digest)
		}
		if !s.HasBlob(d.Digest) {
			return fmt.Errorf("store %s: tagged descriptor %s: %w", s.dir, d.Digest, fs.ErrNotExist)
		}
	}
	return s.layout.updateIndex(func(idx *v1.IndexManifest) error {
		ds := make([]v1.Descriptor, 0, len(keys)+len(tagged))
		for _, k := range keys {
			rec, ok, err := s.record(k)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("store %s: no layer for key %s", s.dir, k)
			}
			ds = append(ds, rec.Manifest)
		}
		putTagged(idx, append(ds, tagged...))
		return nil
	})
}

// marshalIndex encodes index.json as deb2fs writes it.
// An empty index lists "manifests": [], as the OCI spec asks, not null.
func marshalIndex(idx *v1.IndexManifest) ([]byte, error) {
	if idx.Manifests == nil {
		idx.Manifests = []v1.Descriptor{}
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	return append(data, '\n'), nil
}

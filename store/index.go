package store

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/convert"
)

// Publish lists the manifests of the given keys' layers in index.json, so
// that they are visible to OCI tools. The index is rewritten once, under an
// exclusive lock, through a temporary file and a rename: a reader sees the
// old index or the new one. Entries are sorted by ref name, so the index is
// the same whatever order layers were converted in.
func (s *Store) Publish(keys []convert.Key) error { return s.PublishTagged(keys, nil) }

// Index returns the layout's index.json.
func (s *Store) Index() (*v1.IndexManifest, error) { return s.readIndex() }

func (s *Store) readIndex() (*v1.IndexManifest, error) { return s.layout.Index() }

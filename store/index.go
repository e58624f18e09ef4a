package store

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

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

func (s *Store) readIndex() (*v1.IndexManifest, error) {
	f, err := os.Open(s.indexPath())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	idx, err := v1.ParseIndexManifest(f)
	if err != nil {
		return nil, fmt.Errorf("store %s: index.json: %w", s.dir, err)
	}
	return idx, nil
}

func (s *Store) writeIndex(idx *v1.IndexManifest) error {
	data, err := marshalIndex(idx)
	if err != nil {
		return err
	}
	return writeFileAtomic(s, s.indexPath(), data)
}

// lock takes the store's exclusive lock, waiting for another run to
// release it.
func (s *Store) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.dir, "deb2fs", "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("store %s: lock: %w", s.dir, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

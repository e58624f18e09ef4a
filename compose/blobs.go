package compose

import (
	"runtime"
	"sync"

	"github.com/deb2fs/deb2fs/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// blobChecks hashes blobs of the store against their digests and
// remembers those found right, so one compose hashes a blob once.
type blobChecks struct {
	st *store.Store
	mu sync.Mutex
	ok map[v1.Hash]bool
}

func newBlobChecks(st *store.Store) *blobChecks {
	return &blobChecks{st: st, ok: map[v1.Hash]bool{}}
}

// mark records that blob h was checked (read through a blobReader to its
// end, or written by this run from a stream hashed as written).
func (b *blobChecks) mark(h v1.Hash) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.ok[h] = true
	b.mu.Unlock()
}

func (b *blobChecks) done(h v1.Hash) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ok[h]
}

// check hashes blob desc unless it was checked already.
func (b *blobChecks) check(desc v1.Descriptor, what string) error {
	if b.done(desc.Digest) {
		return nil
	}
	r, err := b.st.Layout().OpenBlob(desc, what)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Finish(); err != nil {
		return err
	}
	b.mark(desc.Digest)
	return nil
}

// checkLayers hashes the image's layer blobs in the store (those this run
// did not check yet), in parallel; whats name them in errors.
func (c *composer) checkLayers(layers []v1.Descriptor, whats []string) error {
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i, l := range layers {
		g.Go(func() error { return c.checks.check(l, whats[i]) })
	}
	return g.Wait()
}

package store

import (
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// Checks hashes blobs of a layout against their digests and remembers
// those found right, so that one run (a compose) hashes each blob once. A
// nil *Checks marks nothing.
type Checks struct {
	l  *Layout
	mu sync.Mutex
	ok map[v1.Hash]bool
}

// NewChecks is a Checks of the layout l.
func NewChecks(l *Layout) *Checks { return &Checks{l: l, ok: map[v1.Hash]bool{}} }

// Mark records that blob h was checked: read through a BlobReader to its
// end, or written by this run from a stream hashed as written.
func (b *Checks) Mark(h v1.Hash) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.ok[h] = true
	b.mu.Unlock()
}

func (b *Checks) done(h v1.Hash) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ok[h]
}

// Check hashes blob desc unless it was checked already; what names it in
// errors.
func (b *Checks) Check(desc v1.Descriptor, what string) error {
	if b.done(desc.Digest) {
		return nil
	}
	r, err := b.l.OpenBlob(desc, what)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Finish(); err != nil {
		return err
	}
	b.Mark(desc.Digest)
	return nil
}

// CheckAll checks the blobs descs in parallel; whats name them in errors.
func (b *Checks) CheckAll(descs []v1.Descriptor, whats []string) error {
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i, d := range descs {
		g.Go(func() error { return b.Check(d, whats[i]) })
	}
	return g.Wait()
}

package mirror

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// target is where a run publishes: the work store itself (an OCI layout)
// or a registry repository the work store's layers are pushed to.
type target interface {
	// latest returns the latest published index and its manifest's
	// digest, or nil if there is none.
	latest(ctx context.Context) (*index.Index, string, error)
	// complete reports whether everything ix references is still there.
	complete(ix *index.Index) bool
	// published returns, for each package, the record of its layer if the
	// target already has it (nil otherwise).
	published(ctx context.Context, pkgs []*archive.Package, key func(*archive.Package) convert.Key) ([]*store.Record, error)
	// push makes the work store's records available in the target.
	push(ctx context.Context, recs []*store.Record) error
	// publish publishes ix, whose layers are all in the target, and
	// returns the index manifest's descriptor and the bytes written.
	publish(ctx context.Context, ix *index.Index, keys []convert.Key) (v1.Descriptor, int64, error)
	// prune removes the dated copies of the index beyond the newest keep
	// and returns their refs (see prune.go).
	prune(ctx context.Context, keep int) ([]string, error)
	// String names the target in messages.
	String() string
}

// layoutTarget publishes into the work store.
type layoutTarget struct{ st *store.Store }

func (t layoutTarget) String() string { return t.st.Dir() }

func (t layoutTarget) latest(context.Context) (*index.Index, string, error) {
	ix, d, err := index.LoadWithDescriptor(t.st, index.LatestRef)
	if errors.Is(err, store.ErrNoRef) {
		return nil, "", nil
	}
	return ix, d.Digest.String(), err
}

func (t layoutTarget) complete(ix *index.Index) bool {
	for i := range ix.Packages {
		l := &ix.Packages[i].Layer
		if !t.st.HasBlob(l.Digest) || !t.st.HasBlob(l.Manifest) {
			return false
		}
	}
	return true
}

func (t layoutTarget) published(_ context.Context, pkgs []*archive.Package, key func(*archive.Package) convert.Key) ([]*store.Record, error) {
	recs := make([]*store.Record, len(pkgs))
	for i, p := range pkgs {
		rec, ok, err := t.st.LookupRecord(key(p))
		if err != nil {
			return nil, fmt.Errorf("store lookup %s: %w", p.ID(), err)
		}
		if ok {
			recs[i] = rec
		}
	}
	return recs, nil
}

func (layoutTarget) push(context.Context, []*store.Record) error { return nil }

func (t layoutTarget) publish(_ context.Context, ix *index.Index, keys []convert.Key) (v1.Descriptor, int64, error) {
	return publish(t.st, ix, keys)
}

func (t layoutTarget) prune(_ context.Context, keep int) ([]string, error) {
	return pruneLayout(t.st, keep)
}

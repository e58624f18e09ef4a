package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/deb2fs/deb2fs/aptsources"
	"golang.org/x/sync/errgroup"
)

// Snapshot is the verified state of the configured archives at one time:
// the Release of every suite and the Packages index of every component and
// architecture, in the order of the sources.
type Snapshot struct {
	Releases []*Release
	Indexes  []*Index
	// Skipped are the suites left out in lenient mode because they could
	// not be fetched; each is a *SourceError. The caller should print them.
	Skipped []error
}

// Merge merges the snapshot's indexes (see [Merge]).
func (s *Snapshot) Merge() ([]*Package, error) { return Merge(s.Indexes...) }

// SourceError is a failure to load one suite of one source.
type SourceError struct {
	Source aptsources.Source
	Dist   string
	Err    error
}

// Error names the source, where it is configured, and the suite.
func (e *SourceError) Error() string {
	return fmt.Sprintf("source %s (%s) suite %s: %v", e.Source.URI, e.Source.Origin, e.Dist, e.Err)
}

// Unwrap returns the underlying failure.
func (e *SourceError) Unwrap() error { return e.Err }

// Load fetches and verifies the Release and Packages indexes of every suite
// of srcs, a few suites at a time.
//
// Failure policy: a verification failure (bad signature, unknown key, hash
// mismatch, expired Release; errors.Is(err, ErrVerification)) always fails
// the load, since it means tampering or a broken trust root and nothing
// built on it should be published. A fetch failure (unreachable host, HTTP
// error, timeout) fails the load when strict; otherwise that suite is left
// out and reported in Snapshot.Skipped, as apt update goes on past an
// unreachable third-party source. If every suite fails, Load fails.
func (c *Client) Load(ctx context.Context, srcs []aptsources.Source, strict bool) (*Snapshot, error) {
	dists, err := groupDists(srcs)
	if err != nil {
		return nil, err
	}
	if len(dists) == 0 {
		return nil, errors.New("no apt source to load")
	}
	type result struct {
		rel     *Release
		indexes []*Index
		err     error
	}
	res := make([]result, len(dists))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(3)
	for i, d := range dists {
		g.Go(func() error {
			r := &res[i]
			fail := func(err error) error {
				r.err = &SourceError{Source: d.src, Dist: d.dist, Err: err}
				if strict || errors.Is(err, ErrVerification) {
					return r.err
				}
				return nil
			}
			rel, err := c.Release(gctx, d.src, d.dist)
			if err != nil {
				return fail(err)
			}
			r.rel = rel
			for _, comp := range d.src.Components {
				for _, arch := range d.src.Archs() {
					ix, err := c.Packages(gctx, rel, comp, arch)
					if err != nil {
						r.indexes = nil
						return fail(err)
					}
					r.indexes = append(r.indexes, ix)
				}
				if rel.NoSupportForArchitectureAll != "Packages" && slices.Contains(rel.Architectures, "all") {
					// Architecture: all lives only in binary-all here.
					if hasAny(rel, comp+"/binary-all/Packages") {
						ix, err := c.Packages(gctx, rel, comp, "all")
						if err != nil {
							r.indexes = nil
							return fail(err)
						}
						r.indexes = append(r.indexes, ix)
					}
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	snap := &Snapshot{}
	for _, r := range res {
		if r.err != nil {
			snap.Skipped = append(snap.Skipped, r.err)
			continue
		}
		snap.Releases = append(snap.Releases, r.rel)
		snap.Indexes = append(snap.Indexes, r.indexes...)
	}
	if len(snap.Releases) == 0 {
		return nil, fmt.Errorf("every apt source failed: %w", errors.Join(snap.Skipped...))
	}
	return snap, nil
}

func hasAny(rel *Release, path string) bool {
	for _, ext := range []string{"", ".gz", ".xz", ".bz2", ".zst"} {
		if _, ok := rel.Files[path+ext]; ok {
			return true
		}
	}
	return false
}

// dist is one suite of one source: the unit that has one Release.
type dist struct {
	src  aptsources.Source
	dist string
}

// groupDists lists each (URI, suite) once, in source order, with the union
// of its components and architectures. Two sources naming the same suite
// with different keyrings are an error, as in apt.
func groupDists(srcs []aptsources.Source) ([]dist, error) {
	var out []dist
	at := map[string]int{}
	for _, s := range srcs {
		for _, d := range s.Suites {
			k := s.URI + " " + d
			i, ok := at[k]
			if !ok {
				c := s
				c.Suites = []string{d}
				c.Components = slices.Clone(s.Components)
				c.Architectures = slices.Clone(s.Archs())
				at[k] = len(out)
				out = append(out, dist{c, d})
				continue
			}
			o := &out[i].src
			if o.SignedBy != s.SignedBy {
				return nil, fmt.Errorf("%s and %s: conflicting Signed-By for %s %s", o.Origin, s.Origin, s.URI, d)
			}
			for _, c := range s.Components {
				if !slices.Contains(o.Components, c) {
					o.Components = append(o.Components, c)
				}
			}
			for _, a := range s.Archs() {
				if !slices.Contains(o.Architectures, a) {
					o.Architectures = append(o.Architectures, a)
				}
			}
			o.NoValidUntil = o.NoValidUntil && s.NoValidUntil
		}
	}
	return out, nil
}

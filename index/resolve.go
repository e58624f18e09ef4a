package index

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/deb2fs/deb2fs/resolve"
)

// ResolvePackage is the resolver's view of an index entry.
func (e *Entry) ResolvePackage() resolve.Package {
	return resolve.Package{
		Name: e.Package, Version: e.Version, Architecture: e.Architecture, MultiArch: e.MultiArch,
		Priority: e.Priority, Source: e.Source, Essential: e.Essential, Important: e.Important,
		Depends: e.Depends, PreDepends: e.PreDepends, Recommends: e.Recommends, Suggests: e.Suggests, Provides: e.Provides,
		Conflicts: e.Conflicts, Breaks: e.Breaks, Replaces: e.Replaces,
	}
}

// NativeArch is the Debian architecture of a package set: that of its
// first package that is not Architecture: all ("" when there is none).
func NativeArch(es []Entry) string {
	for _, e := range es {
		if e.Architecture != "all" {
			return e.Architecture
		}
	}
	return ""
}

// Universe is the resolver's universe of the index's packages for arch;
// "" means the index's native architecture (NativeArch). The packages go
// in in the archive's order (Entry.Seq), not the index's.
func (idx *Index) Universe(arch string) (*resolve.Universe, error) {
	if arch == "" {
		arch = NativeArch(idx.Packages)
	}
	return resolve.NewUniverse(arch, ResolvePackages(idx.Packages))
}

// UniverseOf is the resolver's universe of exactly es, in their order
// (compose orders an image's own package set with it, where every package
// is installed and the archive's tie-breaks do not arise).
func UniverseOf(arch string, es []Entry) (*resolve.Universe, error) {
	pkgs := make([]resolve.Package, len(es))
	for i := range es {
		pkgs[i] = es[i].ResolvePackage()
	}
	return resolve.NewUniverse(arch, pkgs)
}

// ResolvePackages is the resolver's input for es: in the archive's order
// (by Seq) when the entries carry it, as resolve would get the archive's
// lists, so that its last tie-break between equal providers (the name
// whose first stanza comes last wins) decides as it does over the lists.
func ResolvePackages(es []Entry) []resolve.Package {
	pkgs := make([]resolve.Package, len(es))
	seqs := make([]int, len(es))
	for i := range es {
		pkgs[i], seqs[i] = es[i].ResolvePackage(), es[i].Seq
	}
	return InArchiveOrder(pkgs, seqs)
}

// InArchiveOrder returns pkgs ordered by seqs (pkgs[i]'s is seqs[i]),
// stably. A package without one (0: an entry of an older deb2fs's index)
// keeps its place among those without, after those with one, so that an
// index without any resolves as it did before.
func InArchiveOrder(pkgs []resolve.Package, seqs []int) []resolve.Package {
	key := func(i int) int {
		if seqs[i] <= 0 {
			return math.MaxInt
		}
		return seqs[i]
	}
	sorted := true
	for i := 1; i < len(seqs) && sorted; i++ {
		sorted = key(i-1) <= key(i)
	}
	if sorted {
		return pkgs
	}
	at := make([]int32, len(pkgs))
	for i := range at {
		at[i] = int32(i)
	}
	slices.SortStableFunc(at, func(a, b int32) int { return cmp.Compare(key(int(a)), key(int(b))) })
	out := make([]resolve.Package, len(pkgs))
	for i, j := range at {
		out[i] = pkgs[j]
	}
	return out
}

// Resolve resolves req over the index, as `apt-get install
// --no-install-recommends` would over the archive state the index was made
// from, and returns the entries of the chosen packages, sorted by name.
func (idx *Index) Resolve(req resolve.Request, arch string) ([]Entry, error) {
	u, err := idx.Universe(arch)
	if err != nil {
		return nil, err
	}
	r, err := u.Resolve(req)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]*Entry, len(idx.Packages))
	for i := range idx.Packages {
		e := &idx.Packages[i]
		byKey[e.Package+"_"+e.Version+"_"+e.Architecture] = e
	}
	out := make([]Entry, 0, len(r.Packages))
	for _, p := range r.Packages {
		e := byKey[p.Key()]
		if e == nil {
			return nil, fmt.Errorf("resolve chose %s, which the index does not hold", p.Key())
		}
		out = append(out, *e)
	}
	return out, nil
}

package mirror

import (
	"fmt"

	"github.com/deb2fs/deb2fs/resolve"
)

// ResolvePackage is the resolver's view of an index entry.
func (e *Entry) ResolvePackage() resolve.Package {
	return resolve.Package{
		Name: e.Package, Version: e.Version, Architecture: e.Architecture, MultiArch: e.MultiArch,
		Priority: e.Priority, Source: e.Source, Essential: e.Essential,
		Depends: e.Depends, PreDepends: e.PreDepends, Recommends: e.Recommends, Provides: e.Provides,
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
// "" means the index's native architecture (NativeArch).
func (idx *Index) Universe(arch string) (*resolve.Universe, error) {
	if arch == "" {
		arch = NativeArch(idx.Packages)
	}
	pkgs := make([]resolve.Package, len(idx.Packages))
	for i := range idx.Packages {
		pkgs[i] = idx.Packages[i].ResolvePackage()
	}
	return resolve.NewUniverse(arch, pkgs)
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

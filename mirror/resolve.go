package mirror

import (
	"fmt"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/resolve"
)

// EntryOf is the index entry of an archive package: its metadata and its
// .deb, without its origin and layer. A mirror run's index, the scope it
// resolves and the tests' host index all make their entries here.
func EntryOf(p *archive.Package) Entry {
	return Entry{
		Package: p.Name, Version: p.Version, Architecture: p.Architecture,
		MultiArch: p.MultiArch, Essential: p.Essential, Important: p.Important, Priority: p.Priority,
		Section: p.Section, Source: p.Source, Depends: p.Depends, PreDepends: p.PreDepends,
		Provides: p.Provides, Conflicts: p.Conflicts, Breaks: p.Breaks, Replaces: p.Replaces,
		Recommends: p.Recommends, Suggests: p.Suggests, InstalledSize: p.InstalledSize,
		Filename: p.Filename, DebSize: p.Size, DebSHA256: p.SHA256,
	}
}

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

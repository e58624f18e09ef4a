package mirror

import (
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/index"
)

// EntryOf is the index entry of an archive package: its metadata and its
// .deb, without its origin, its layer and its place in the archive's order
// (see EntryIn).
func EntryOf(p *archive.Package) index.Entry {
	return index.Entry{
		Package: p.Name, Version: p.Version, Architecture: p.Architecture,
		MultiArch: p.MultiArch, Essential: p.Essential, Important: p.Important, Priority: p.Priority,
		Section: p.Section, Source: p.Source, Depends: p.Depends, PreDepends: p.PreDepends,
		Provides: p.Provides, Conflicts: p.Conflicts, Breaks: p.Breaks, Replaces: p.Replaces,
		Recommends: p.Recommends, Suggests: p.Suggests, InstalledSize: p.InstalledSize,
		Filename: p.Filename, DebSize: p.Size, DebSHA256: p.SHA256,
	}
}

// ArchiveOrder numbers the package names of an archive state from 1, in
// the order of their first stanza: the Packages indexes in the order given
// (a snapshot's: the sources in order, each suite's components, each
// component's architectures), each from the top. That is the order in which
// apt reads the lists into its cache. apt's last tie-break between equal
// providers compares package IDs, given in that order as names are first
// met; resolve's compares the position of a name's first stanza in its
// input (docs/resolve.md), so given the packages in this order it decides
// as it does over the lists themselves. The index is sorted by name; an
// entry keeps its name's number as Seq, and Index.Universe restores the
// order from it.
func ArchiveOrder(indexes ...*archive.Index) map[string]int {
	n := 0
	for _, ix := range indexes {
		n += len(ix.Packages)
	}
	order := make(map[string]int, n)
	for _, ix := range indexes {
		for i := range ix.Packages {
			if name := ix.Packages[i].Name; order[name] == 0 {
				order[name] = len(order) + 1
			}
		}
	}
	return order
}

// EntryIn is the index entry of p in the archive state that order numbers
// (ArchiveOrder of its Packages indexes): EntryOf, with Seq. A mirror run's
// index, the scope it resolves and the tests' host index make their entries
// here.
func EntryIn(p *archive.Package, order map[string]int) index.Entry {
	e := EntryOf(p)
	e.Seq = order[p.Name]
	return e
}

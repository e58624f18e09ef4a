package archive

import (
	"cmp"
	"fmt"
	"slices"

	"pault.ag/go/debian/version"
)

// Merge combines indexes as apt does for several suites (bookworm,
// bookworm-updates, bookworm-security): for each (package name,
// architecture) the highest version wins, by dpkg's version comparison.
// Between equal versions the index given first wins. Architecture: all
// stanzas, which every binary-ARCH index repeats, are kept once. The result
// is sorted by name, then architecture, and points into the indexes.
func Merge(indexes ...*Index) ([]*Package, error) {
	type key struct{ name, arch string }
	n := 0
	for _, ix := range indexes {
		n += len(ix.Packages)
	}
	best := make(map[key]*Package, n)
	for _, ix := range indexes {
		for i := range ix.Packages {
			p := &ix.Packages[i]
			k := key{p.Name, p.Architecture}
			old, ok := best[k]
			if !ok {
				best[k] = p
				continue
			}
			if old.Version == p.Version {
				continue
			}
			c, err := compareVersions(old.Version, p.Version)
			if err != nil {
				return nil, fmt.Errorf("merge %s %s (%s) and %s (%s): %w", p.Name, p.Architecture,
					where(old), p.Version, where(p), err)
			}
			if c < 0 {
				best[k] = p
			}
		}
	}
	out := make([]*Package, 0, len(best))
	for _, p := range best {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Package) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Architecture, b.Architecture))
	})
	return out, nil
}

func where(p *Package) string {
	if p.Release == nil {
		return p.Version
	}
	return p.Version + " in " + p.Release.Dist
}

// compareVersions compares two Debian versions by dpkg's rules.
func compareVersions(a, b string) (int, error) {
	va, err := version.Parse(a)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", a, err)
	}
	vb, err := version.Parse(b)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", b, err)
	}
	return version.Compare(va, vb), nil
}

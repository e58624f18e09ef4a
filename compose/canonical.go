package compose

import (
	"sort"

	"github.com/deb2fs/deb2fs/index"
)

// priorityRank orders Debian priorities from the most to the least widely
// installed.
var priorityRank = map[string]int{"required": 1, "important": 2, "standard": 3, "optional": 4, "extra": 5}

// canonicalLess is the one global order of package layers: Essential
// packages first, then by priority, then by name (version and architecture
// break ties). The order depends on each package alone, never on the rest
// of the set, so a package has the same relative position in every image
// and images share their longest layer prefix: the essential set, common
// to all, comes first.
func canonicalLess(a, b *index.Entry) bool {
	if a.Essential != b.Essential {
		return a.Essential
	}
	ra, rb := rank(a.Priority), rank(b.Priority)
	if ra != rb {
		return ra < rb
	}
	if a.Package != b.Package {
		return a.Package < b.Package
	}
	if a.Version != b.Version {
		return a.Version < b.Version
	}
	return a.Architecture < b.Architecture
}

func rank(p string) int {
	if r, ok := priorityRank[p]; ok {
		return r
	}
	return 6
}

// canonicalOrder sorts a copy of es into the canonical layer order.
func canonicalOrder(es []index.Entry) []index.Entry {
	out := append([]index.Entry(nil), es...)
	sort.SliceStable(out, func(i, j int) bool { return canonicalLess(&out[i], &out[j]) })
	return out
}

package compose

import (
	"fmt"
	"sort"

	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/resolve"
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
func canonicalLess(a, b *mirror.Entry) bool {
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
func canonicalOrder(es []mirror.Entry) []mirror.Entry {
	out := append([]mirror.Entry(nil), es...)
	sort.SliceStable(out, func(i, j int) bool { return canonicalLess(&out[i], &out[j]) })
	return out
}

// scriptOrder is the order to run maintainer scripts in: base-passwd
// first, then dependencies before dependents (resolve's topological order
// over the set itself).
func scriptOrder(es []mirror.Entry, arch string) ([]*mirror.Entry, error) {
	pkgs := make([]resolve.Package, len(es))
	byKey := map[string]*mirror.Entry{}
	install := make([]string, len(es))
	for i := range es {
		pkgs[i] = es[i].ResolvePackage()
		byKey[es[i].Package] = &es[i]
		install[i] = es[i].Package + "=" + es[i].Version
	}
	u, err := resolve.NewUniverse(arch, pkgs)
	if err != nil {
		return nil, err
	}
	r, err := u.Resolve(resolve.Request{Install: install, Base: resolve.BaseNone})
	if err != nil {
		return nil, fmt.Errorf("the package set is not closed under its dependencies: %w", err)
	}
	var out []*mirror.Entry
	for _, p := range r.Order() {
		if e := byKey[p.Name]; e != nil {
			out = append(out, e)
		}
	}
	if len(out) != len(es) {
		return nil, fmt.Errorf("script order has %d of %d packages", len(out), len(es))
	}
	return out, nil
}

package compose

import (
	"fmt"

	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/resolve"
)

// ResolveIndex resolves req over a mirror index, as
// `apt-get install --no-install-recommends` would over the archive state
// the index was made from, and returns the entries of the chosen packages
// (sorted by name). arch is the native architecture; "" means the index's
// first non-all architecture.
func ResolveIndex(idx *mirror.Index, req resolve.Request, arch string) ([]mirror.Entry, error) {
	if arch == "" {
		arch = nativeArch(idx.Packages)
	}
	pkgs := make([]resolve.Package, len(idx.Packages))
	for i := range idx.Packages {
		pkgs[i] = toPackage(&idx.Packages[i])
	}
	u, err := resolve.NewUniverse(arch, pkgs)
	if err != nil {
		return nil, err
	}
	r, err := u.Resolve(req)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]*mirror.Entry, len(idx.Packages))
	for i := range idx.Packages {
		e := &idx.Packages[i]
		byKey[e.Package+"_"+e.Version+"_"+e.Architecture] = e
	}
	out := make([]mirror.Entry, 0, len(r.Packages))
	for _, p := range r.Packages {
		e := byKey[p.Key()]
		if e == nil {
			return nil, fmt.Errorf("resolve chose %s, which the index does not hold", p.Key())
		}
		out = append(out, *e)
	}
	return out, nil
}

package mirror

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/resolve"
)

// scope returns the packages to mirror, from the merged archive: every
// package with All, otherwise, for each binary architecture read, the
// dependency closure of the requested names on the minimal base (the
// essential set and usr-is-merged), as resolve computes it for compose.
// Architecture: all packages appear once. The resolver sees the packages
// in the archive's order (order, from ArchiveOrder), as Index.Resolve sees
// the index's. The result is sorted by name, version, architecture.
func scope(o *Options, merged []*archive.Package, order map[string]int, archs []string) ([]*archive.Package, error) {
	if o.All {
		return merged, nil
	}
	if len(o.Packages) == 0 {
		return nil, errors.New("nothing to mirror: name packages (--packages) or pass --all")
	}
	type key struct{ name, version, arch string }
	byKey := make(map[key]*archive.Package, len(merged))
	for _, p := range merged {
		byKey[key{p.Name, p.Version, p.Architecture}] = p
	}
	picked := map[key]*archive.Package{}
	for _, arch := range archs {
		var pkgs []resolve.Package
		var seqs []int
		for _, p := range merged {
			if p.Architecture != arch && p.Architecture != "all" {
				continue
			}
			// The entry's view and order, so that the scope is what
			// compose resolves over the index.
			e := EntryIn(p, order)
			pkgs, seqs = append(pkgs, e.ResolvePackage()), append(seqs, e.Seq)
		}
		u, err := resolve.NewUniverse(arch, index.InArchiveOrder(pkgs, seqs))
		if err != nil {
			return nil, fmt.Errorf("scope %s: %w", arch, err)
		}
		res, err := u.Resolve(resolve.Request{Install: o.Packages, Base: resolve.BaseMinimal})
		if err != nil {
			return nil, fmt.Errorf("scope: closure of %s on %s: %w", strings.Join(o.Packages, " "), arch, err)
		}
		for _, rp := range res.Packages {
			k := key{rp.Name, rp.Version, rp.Architecture}
			p, ok := byKey[k]
			if !ok {
				return nil, fmt.Errorf("scope: resolver chose %s %s %s, which the archive does not list", k.name, k.version, k.arch)
			}
			picked[k] = p
		}
	}
	out := make([]*archive.Package, 0, len(picked))
	for _, p := range picked {
		out = append(out, p)
	}
	sortPackages(out)
	return out, nil
}

func sortPackages(ps []*archive.Package) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Architecture < b.Architecture
	})
}

// binaryArchs lists the architectures the sources read, "all" excluded.
func binaryArchs(srcs []aptsources.Source) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range srcs {
		for _, a := range s.Archs() {
			if a != "all" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

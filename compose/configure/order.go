package configure

import (
	"fmt"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/resolve"
)

// scriptGraph is the order to run maintainer scripts in and each
// package's dependencies within the set.
type scriptGraph struct {
	// order: base-passwd first, then dependencies before dependents
	// (resolve's topological order over the set itself).
	order []*index.Entry
	pre   map[*index.Entry][]*index.Entry // what satisfies each package's Pre-Depends
	deps  map[*index.Entry][]*index.Entry // … its Pre-Depends and Depends
}

// scriptOrder is the script graph of a package set.
func scriptOrder(es []index.Entry, arch string) (*scriptGraph, error) {
	byKey := map[string]*index.Entry{}
	install := make([]string, len(es))
	for i := range es {
		byKey[es[i].Package] = &es[i]
		install[i] = es[i].Package + "=" + es[i].Version
	}
	u, err := index.UniverseOf(arch, es)
	if err != nil {
		return nil, err
	}
	r, err := u.Resolve(resolve.Request{Install: install, Base: resolve.BaseNone})
	if err != nil {
		return nil, fmt.Errorf("the package set is not closed under its dependencies: %w", err)
	}
	g := &scriptGraph{pre: map[*index.Entry][]*index.Entry{}, deps: map[*index.Entry][]*index.Entry{}}
	entries := func(ps []*resolve.Package) []*index.Entry {
		var out []*index.Entry
		for _, p := range ps {
			if e := byKey[p.Name]; e != nil {
				out = append(out, e)
			}
		}
		return out
	}
	for _, p := range r.Order() {
		e := byKey[p.Name]
		if e == nil {
			continue
		}
		g.order = append(g.order, e)
		pre, dep := r.DependsOn(p)
		g.pre[e] = entries(pre)
		g.deps[e] = append(entries(pre), entries(dep)...)
	}
	if len(g.order) != len(es) {
		return nil, fmt.Errorf("script order has %d of %d packages", len(g.order), len(es))
	}
	return g, nil
}

// stage is one step of configuring a root: run some packages' preinsts,
// then configure some packages (none: the last step, dpkg --configure
// --pending).
type stage struct {
	preinst   []*index.Entry
	configure []*index.Entry
	waiting   *index.Entry // the package whose preinst waits for configure
}

// stages plans the preinsts and configure runs in the order a bootstrap
// gives them on a Debian system: the Essential set is installed first, in
// one `dpkg --install --force-depends` as mmdebstrap and debootstrap do
// (its preinsts wait for nothing), then apt installs the rest, where a
// package's preinst runs once what it Pre-Depends on is configured, and
// so is the Essential set, which every package may use without declaring
// it (Debian policy 3.8, 7.2):
// mariadb-server's preinst calls adduser, whose chfn needs the PAM
// configuration libpam-runtime's postinst writes. So before such a
// preinst, the preinsts of those prerequisites (and of their own
// dependencies) that have not run yet run, and they are configured; every
// other package is configured at the end. A package among its own
// prerequisites (a dependency cycle through its Pre-Depends) has its
// preinst run without a step of its own. hasPreinst says which packages
// have a preinst.
func (g *scriptGraph) stages(hasPreinst func(*index.Entry) bool) []stage {
	var essential []*index.Entry
	for _, e := range g.order {
		if e.Essential {
			essential = append(essential, e)
		}
	}
	configured, ran := map[*index.Entry]bool{}, map[*index.Entry]bool{}
	var out []stage
	var cur stage
	for _, x := range g.order {
		if !hasPreinst(x) || ran[x] {
			continue
		}
		if len(g.pre[x]) > 0 && !x.Essential {
			roots := append(append([]*index.Entry(nil), g.pre[x]...), essential...)
			need := g.closure(roots, configured)
			if len(need) > 0 && !need[x] {
				for _, e := range g.order {
					if need[e] && hasPreinst(e) && !ran[e] {
						cur.preinst = append(cur.preinst, e)
						ran[e] = true
					}
				}
				for _, e := range g.order {
					if need[e] {
						cur.configure = append(cur.configure, e)
						configured[e] = true
					}
				}
				cur.waiting = x
				out = append(out, cur)
				cur = stage{}
			}
		}
		cur.preinst = append(cur.preinst, x)
		ran[x] = true
	}
	return append(out, cur)
}

// closure is the set of roots and everything they depend on, without
// what is in done.
func (g *scriptGraph) closure(roots []*index.Entry, done map[*index.Entry]bool) map[*index.Entry]bool {
	seen := map[*index.Entry]bool{}
	var walk func(e *index.Entry)
	walk = func(e *index.Entry) {
		if seen[e] || done[e] {
			return
		}
		seen[e] = true
		for _, d := range g.deps[e] {
			walk(d)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return seen
}

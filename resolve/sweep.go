package resolve

import "sort"

// sorted returns the marked packages sorted by name.
func (s *solver) sorted() []*node {
	out := make([]*node, 0, len(s.sel))
	for _, n := range s.sel {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pkg.Name < out[j].pkg.Name })
	return out
}

// sweep unmarks what nothing needs any more, as apt-get install does
// before it shows its plan: a package marked on the way but left
// unreachable (its dependent was displaced by a conflicting package, or
// failed to install) is not installed. Reachability starts from the roots
// and every marked Essential or Important package and follows Pre-Depends,
// Depends, Recommends and Suggests to every marked package that satisfies
// them (apt's MarkPackage with APT::AutoRemove::RecommendsImportant and
// SuggestsImportant at their default, true).
func (s *solver) sweep(roots []*node) {
	keep := map[*node]bool{}
	var stack []*node
	push := func(n *node) {
		if n != nil && !keep[n] && s.sel[n.pkg.Name] == n {
			keep[n] = true
			stack = append(stack, n)
		}
	}
	for _, n := range roots {
		push(n)
	}
	for _, n := range s.sorted() {
		if n.pkg.Essential || n.pkg.Important {
			push(n)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, gs := range [][]group{n.pre, n.dep, n.rec, n.sug} {
			for _, g := range gs {
				for i := range g {
					a := &g[i]
					if t := s.sel[a.name]; t != nil && s.u.archOK(a, t) && a.versionOK(t.ver) {
						push(t)
					}
					for _, pr := range s.prov[a.name] {
						if s.u.provideOK(a, pr.n, pr.p) {
							push(pr.n)
						}
					}
				}
			}
		}
	}
	for _, n := range s.sorted() {
		if !keep[n] {
			s.unmark(n)
		}
	}
}

package resolve

import (
	"strings"
)

// Resolve computes the packages that req installs: the base set and the
// requested packages (the roots) and everything they need. Roots are all
// marked first, then visited in the order of
// `apt-get install BASE... REQUEST...`: the base names sorted, then
// req.Install as given; each visit satisfies the package's unsatisfied
// Pre-Depends and Depends (and Recommends when req.Recommends) depth
// first. The order matters only where an OR-group or a virtual package
// leaves a choice. The chosen set is then checked for Conflicts and Breaks.
//
// Errors are *UnsatisfiableError for an unknown package or an unsatisfiable
// relation, *ConflictError for a set that violates Conflicts or Breaks, and
// plain errors for malformed control data.
func (u *Universe) Resolve(req Request) (*Result, error) {
	s := newSolver(u, req.Recommends)
	if _, err := u.providers(""); err != nil {
		return nil, err
	}

	// Pins first, so that every root sees them.
	for _, e := range req.Install {
		if strings.Contains(e, "=") {
			if _, err := s.root(e); err != nil {
				return nil, err
			}
		}
	}
	// The roots in apt's command-line order: the base, then the request.
	type rootEntry struct {
		chain string
		n     *node
	}
	var entries []rootEntry
	seen := map[string]bool{}
	add := func(chain string, n *node) {
		if !seen[n.pkg.Name] {
			seen[n.pkg.Name] = true
			entries = append(entries, rootEntry{chain, n})
		}
	}
	var base []*Package
	for _, name := range u.BaseNames(req.Base) {
		n := s.candidate(name)
		base = append(base, n.pkg)
		add(name, n)
	}
	for _, e := range req.Install {
		n, err := s.root(e)
		if err != nil {
			return nil, err
		}
		add(e, n)
	}

	// Mark and protect every root, then visit them in order.
	for _, e := range entries {
		if err := e.n.relations(u.native); err != nil {
			return nil, err
		}
		s.mark(e.n, []string{e.chain})
		s.protected[e.n.pkg.Name] = true
	}
	for _, e := range entries {
		if err := s.deps(e.n, []string{e.chain}); err != nil {
			return nil, err
		}
	}

	// A package displaced by a conflicting one may have left a dependent
	// with an unsatisfied Pre-Depends or Depends: give each such package
	// one more visit (apt leaves this to its problem resolver).
	for _, n := range s.sorted() {
		if s.sel[n.pkg.Name] == n && s.brokenCritical(n) {
			if err := s.deps(n, s.why[n.pkg.Name]); err != nil {
				return nil, err
			}
		}
	}
	var roots []*node
	for _, e := range entries {
		roots = append(roots, e.n)
	}
	s.sweep(roots)

	r := newResult(s, base)
	for _, n := range r.nodes {
		for _, f := range n.negatives() {
			for _, g := range f.gs {
				for i := range g {
					if others := s.matchNegatives(&g[i], n); len(others) > 0 {
						return nil, &ConflictError{Package: n.pkg, Field: f.name, Relation: g[i].text, Other: others[0].pkg}
					}
				}
			}
		}
		gs, critical := s.groups(n)
		for _, g := range gs[:critical] {
			if s.satisfier(g) == nil {
				chain := append(append([]string(nil), s.why[n.pkg.Name]...), g.String())
				return nil, &UnsatisfiableError{Chain: chain, Reason: s.whyNot(g)}
			}
		}
	}
	return r, nil
}

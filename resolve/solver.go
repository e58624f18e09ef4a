package resolve

import (
	"fmt"
	"sort"
	"strings"
)

// maxDepth bounds the recursion like apt's IsModeChangeOk does.
const maxDepth = 3000

// solver is the state of one resolution: the marked set and the indices
// that answer "is this relation satisfied by what is marked?".
type solver struct {
	u          *Universe
	recommends bool
	pins       map[string]*node      // NAME=VERSION from the request
	sel        map[string]*node      // marked for install, by name
	why        map[string][]string   // the chain that marked each package
	prov       map[string][]provider // virtual name -> marked providers
	neg        map[string][]negEntry // name -> marked Conflicts/Breaks on it
}

// negEntry is a Conflicts or Breaks alternative of a marked package.
type negEntry struct {
	owner *node
	field string
	a     alt
}

func newSolver(u *Universe, recommends bool) *solver {
	return &solver{
		u:          u,
		recommends: recommends,
		pins:       map[string]*node{},
		sel:        map[string]*node{},
		why:        map[string][]string{},
		prov:       map[string][]provider{},
		neg:        map[string][]negEntry{},
	}
}

// mark adds n to the marked set. Its relations must be parsed.
func (s *solver) mark(n *node, chain []string) {
	s.sel[n.pkg.Name] = n
	s.why[n.pkg.Name] = append([]string(nil), chain...)
	for _, p := range n.provides {
		s.prov[p.name] = append(s.prov[p.name], provider{n: n, p: p})
	}
	for _, f := range [...]struct {
		name string
		gs   []group
	}{{"Conflicts", n.con}, {"Breaks", n.brk}} {
		for _, g := range f.gs {
			for _, a := range g {
				s.neg[a.name] = append(s.neg[a.name], negEntry{owner: n, field: f.name, a: a})
			}
		}
	}
}

// unmark removes n again, as apt's MarkInstall_DiscardInstall does when a
// package's dependencies turn out unsatisfiable. What n already pulled in
// stays marked, as in apt.
func (s *solver) unmark(n *node) {
	delete(s.sel, n.pkg.Name)
	delete(s.why, n.pkg.Name)
	for _, p := range n.provides {
		ps := s.prov[p.name][:0]
		for _, pr := range s.prov[p.name] {
			if pr.n != n {
				ps = append(ps, pr)
			}
		}
		s.prov[p.name] = ps
	}
	for name, es := range s.neg {
		kept := es[:0]
		for _, e := range es {
			if e.owner != n {
				kept = append(kept, e)
			}
		}
		s.neg[name] = kept
	}
}

// groups lists the OR-groups n needs, critical (Pre-Depends, Depends) first
// in field order as apt's cache keeps them, then Recommends when asked for.
func (s *solver) groups(n *node) (gs []group, critical int) {
	gs = append(append(gs, n.pre...), n.dep...)
	critical = len(gs)
	if s.recommends {
		gs = append(gs, n.rec...)
	}
	return gs, critical
}

// broken tells whether a marked package still has unsatisfied groups.
func (s *solver) broken(n *node) bool {
	gs, _ := s.groups(n)
	for _, g := range gs {
		if s.satisfier(g) == nil {
			return true
		}
	}
	return false
}

// install marks n and, depth first, what it needs. A package that is
// already marked but whose dependencies are not all satisfied yet (a
// root, or one higher up the current chain) has them processed here, as
// apt's MarkInstall does for a package in the install state that is
// still broken.
func (s *solver) install(n *node, chain []string) error {
	if len(chain) > maxDepth {
		return &UnsatisfiableError{Chain: chain, Reason: "dependency chain too deep"}
	}
	if cur := s.sel[n.pkg.Name]; cur != nil {
		if !s.broken(cur) {
			return nil
		}
		return s.deps(cur, chain)
	}
	if err := n.relations(s.u.native); err != nil {
		return &UnsatisfiableError{Chain: chain, Reason: err.Error()}
	}
	if owner, field, rel := s.conflict(n); owner != nil {
		return &UnsatisfiableError{Chain: chain, Reason: fmt.Sprintf("%s is not installable: %s has %s: %s", n.pkg, owner.pkg, field, rel)}
	}
	s.mark(n, chain)
	if err := s.deps(n, chain); err != nil {
		s.unmark(n)
		return err
	}
	return nil
}

// deps satisfies every group of the marked package n that the marked set
// does not satisfy yet, in order; a failed Recommends is skipped.
func (s *solver) deps(n *node, chain []string) error {
	gs, critical := s.groups(n)
	for i, g := range gs {
		if s.satisfier(g) != nil {
			continue
		}
		sub := append(append(make([]string, 0, len(chain)+1), chain...), g.String())
		if err := s.satisfy(g, sub); err != nil && i < critical {
			return err
		}
	}
	return nil
}

// satisfy installs the first alternative of g that can be installed,
// trying each alternative's candidates in apt's order.
func (s *solver) satisfy(g group, chain []string) error {
	var first error
	tried := map[*node]bool{}
	for i := range g {
		sols, err := s.solutions(&g[i])
		if err != nil {
			return err
		}
		for _, sol := range sols {
			if tried[sol] {
				continue
			}
			tried[sol] = true
			err := s.install(sol, chain)
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
	}
	if first != nil {
		return first
	}
	return &UnsatisfiableError{Chain: chain, Reason: s.whyNot(g)}
}

// root finds the package a request entry names.
func (s *solver) root(entry string) (*node, error) {
	p, err := parseInstall(entry)
	if err != nil {
		return nil, err
	}
	vs := s.u.byName[p.name]
	if p.version != "" {
		for _, n := range vs {
			if n.pkg.Version == p.version {
				s.pins[p.name] = n
				return n, nil
			}
		}
		have := make([]string, len(vs))
		for i, n := range vs {
			have[i] = n.pkg.Version
		}
		reason := "not in the mirror"
		if len(have) > 0 {
			reason = "version " + p.version + " is not in the mirror (it has " + strings.Join(have, ", ") + ")"
		}
		return nil, &UnsatisfiableError{Chain: []string{entry}, Reason: reason}
	}
	if c := s.candidate(p.name); c != nil {
		return c, nil
	}
	provs, err := s.u.providers(p.name)
	if err != nil {
		return nil, err
	}
	var cands []*node
	var names []string
	for _, pr := range provs {
		if c := s.candidate(pr.n.pkg.Name); c == pr.n {
			cands = append(cands, c)
			names = append(names, c.pkg.Name)
		}
	}
	switch len(cands) {
	case 0:
		return nil, &UnsatisfiableError{Chain: []string{entry}, Reason: "not in the mirror"}
	case 1:
		return cands[0], nil
	}
	sort.Strings(names)
	return nil, &UnsatisfiableError{Chain: []string{entry}, Reason: "virtual package provided by " + strings.Join(names, ", ") + "; name one"}
}

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
	protected  map[string]bool       // may not be displaced (apt's Protected)
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
		protected:  map[string]bool{},
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
	for _, f := range n.negatives() {
		for _, g := range f.gs {
			for _, a := range g {
				s.neg[a.name] = append(s.neg[a.name], negEntry{owner: n, field: f.name, a: a})
			}
		}
	}
}

// negatives lists n's Conflicts and Breaks groups with their field names.
func (n *node) negatives() [2]struct {
	name string
	gs   []group
} {
	return [2]struct {
		name string
		gs   []group
	}{{"Conflicts", n.con}, {"Breaks", n.brk}}
}

// unmark removes n again: when its dependencies turn out unsatisfiable
// (apt's MarkInstall_DiscardInstall) or when a package that conflicts with
// it is installed instead (apt's MarkKeep). What n pulled in stays marked
// until the final sweep, as in apt.
func (s *solver) unmark(n *node) {
	delete(s.sel, n.pkg.Name)
	delete(s.why, n.pkg.Name)
	delete(s.protected, n.pkg.Name)
	for _, p := range n.provides {
		ps := s.prov[p.name][:0]
		for _, pr := range s.prov[p.name] {
			if pr.n != n {
				ps = append(ps, pr)
			}
		}
		s.prov[p.name] = ps
	}
	for _, f := range n.negatives() {
		for _, g := range f.gs {
			for _, a := range g {
				es := s.neg[a.name][:0]
				for _, e := range s.neg[a.name] {
					if e.owner != n {
						es = append(es, e)
					}
				}
				s.neg[a.name] = es
			}
		}
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

// brokenCritical tells whether a marked package has an unsatisfied
// Pre-Depends or Depends group.
func (s *solver) brokenCritical(n *node) bool {
	gs, critical := s.groups(n)
	for _, g := range gs[:critical] {
		if s.satisfier(g) == nil {
			return true
		}
	}
	return false
}

// install marks n and, depth first, what it needs. A package that is
// already marked is visited again when it is protected or still has
// unsatisfied dependencies (a root, or one higher up the current chain),
// as apt's MarkInstall does.
func (s *solver) install(n *node, chain []string) error {
	if len(chain) > maxDepth {
		return &UnsatisfiableError{Chain: chain, Reason: "dependency chain too deep"}
	}
	if cur := s.sel[n.pkg.Name]; cur != nil {
		if s.protected[cur.pkg.Name] || s.broken(cur) {
			return s.deps(cur, chain)
		}
		return nil
	}
	if err := n.relations(s.u.native); err != nil {
		return &UnsatisfiableError{Chain: chain, Reason: err.Error()}
	}
	if err := s.displace(n, chain); err != nil {
		return err
	}
	if owner, field, rel := s.reverseConflict(n); owner != nil {
		return &UnsatisfiableError{Chain: chain, Reason: fmt.Sprintf("%s is not installable: %s has %s: %s", n.pkg, owner.pkg, field, rel)}
	}
	s.mark(n, chain)
	if err := s.deps(n, chain); err != nil {
		s.unmark(n)
		return err
	}
	return nil
}

// displace makes room for n: marked packages that n Conflicts with or
// Breaks are unmarked, unless they are protected, in which case n cannot
// be installed (apt's MarkInstall_RemoveConflictsIfNotUpgradeable on a
// system where nothing is installed yet).
func (s *solver) displace(n *node, chain []string) error {
	for _, f := range n.negatives() {
		for _, g := range f.gs {
			for i := range g {
				for _, o := range s.matchNegatives(&g[i], n) {
					if s.protected[o.pkg.Name] {
						return &UnsatisfiableError{Chain: chain, Reason: fmt.Sprintf("%s is not installable: it has %s: %s, and %s is required", n.pkg, f.name, g[i].text, o.pkg)}
					}
					s.unmark(o)
				}
			}
		}
	}
	return nil
}

// deps satisfies every group of the marked package n that the marked set
// does not satisfy yet, in order; a failed Recommends is skipped. For a
// protected package, the only possible solution of a Pre-Depends or
// Depends group becomes protected too.
func (s *solver) deps(n *node, chain []string) error {
	gs, critical := s.groups(n)
	prot := s.protected[n.pkg.Name]
	for i, g := range gs {
		sub := func() []string { return append(append(make([]string, 0, len(chain)+1), chain...), g.String()) }
		if s.satisfier(g) != nil {
			if !prot || i >= critical {
				continue
			}
			sols, err := s.allSolutions(g)
			if err != nil {
				return err
			}
			if len(sols) == 1 && !s.protected[sols[0].pkg.Name] && s.sel[sols[0].pkg.Name] == sols[0] {
				s.protected[sols[0].pkg.Name] = true
				if err := s.install(sols[0], sub()); err != nil {
					return err
				}
			}
			continue
		}
		if err := s.satisfy(g, sub(), prot && i < critical); err != nil && i < critical {
			return err
		}
	}
	return nil
}

// allSolutions is every candidate that satisfies some alternative of g.
func (s *solver) allSolutions(g group) ([]*node, error) {
	var out []*node
	seen := map[*node]bool{}
	for i := range g {
		sols, err := s.solutions(&g[i])
		if err != nil {
			return nil, err
		}
		for _, x := range sols {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out, nil
}

// satisfy installs the first alternative of g that can be installed,
// trying each alternative's candidates in apt's order. With protect, a
// solution that is the group's only one is protected.
func (s *solver) satisfy(g group, chain []string, protect bool) error {
	all, err := s.allSolutions(g)
	if err != nil {
		return err
	}
	var first error
	tried := map[*node]bool{}
	for i := range g {
		sols, _ := s.solutions(&g[i])
		for _, sol := range sols {
			if tried[sol] {
				continue
			}
			tried[sol] = true
			single := protect && len(all) == 1
			if single {
				s.protected[sol.pkg.Name] = true
			}
			err := s.install(sol, chain)
			if err == nil {
				return nil
			}
			if single && s.sel[sol.pkg.Name] == nil {
				delete(s.protected, sol.pkg.Name)
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

package resolve

import (
	"sort"
	"strings"
)

// priorityRank orders priorities as apt's cache does: required first. A
// missing or unknown priority is 0, which apt also sorts first.
func priorityRank(p string) int {
	switch p {
	case "required":
		return 1
	case "important":
		return 2
	case "standard":
		return 3
	case "optional":
		return 4
	case "extra":
		return 5
	}
	return 0
}

// archOK tells whether the real package n can satisfy alternative a as far
// as architecture qualifiers go. Every package in a universe is native or
// Architecture: all, which dpkg treats as native.
func (u *Universe) archOK(a *alt, n *node) bool {
	switch a.qual {
	case qualAny:
		return n.pkg.MultiArch == "allowed"
	case qualExplicit:
		return a.arch == u.arch
	}
	return true
}

// provideOK tells whether Provides entry p of package n satisfies a: an
// unversioned relation accepts any entry, a versioned one only a versioned
// entry whose version matches; name:any needs a Multi-Arch: allowed
// provider (apt gives only those an implicit NAME:any).
func (u *Universe) provideOK(a *alt, n *node, p provide) bool {
	if !u.archOK(a, n) {
		return false
	}
	if a.op == "" {
		return true
	}
	return p.versioned && a.versionOK(p.ver)
}

// satisfier returns a selected package that satisfies group g, or nil.
func (s *solver) satisfier(g group) *node {
	for i := range g {
		a := &g[i]
		if n := s.sel[a.name]; n != nil && s.u.archOK(a, n) && a.versionOK(n.ver) {
			return n
		}
		for _, pr := range s.prov[a.name] {
			if s.u.provideOK(a, pr.n, pr.p) {
				return pr.n
			}
		}
	}
	return nil
}

// candidate returns the version of name the solver installs: a pinned one
// or the highest.
func (s *solver) candidate(name string) *node {
	if n, ok := s.pins[name]; ok {
		return n
	}
	if vs := s.u.byName[name]; len(vs) > 0 {
		return vs[0]
	}
	return nil
}

// solutions lists the candidate versions that satisfy alternative a, in the
// order apt tries them (CompareProviders in apt's depcache.cc): protected
// first, then the real package of that name, then Essential, then Important, then by
// Priority, then the name seen last in the universe first (apt's last
// resort is the higher package ID, which follows parse order).
func (s *solver) solutions(a *alt) ([]*node, error) {
	var out []*node
	if c := s.candidate(a.name); c != nil && s.u.archOK(a, c) && a.versionOK(c.ver) {
		out = append(out, c)
	}
	provs, err := s.u.providers(a.name)
	if err != nil {
		return nil, err
	}
	for _, pr := range provs {
		if s.candidate(pr.n.pkg.Name) != pr.n || !s.u.provideOK(a, pr.n, pr.p) {
			continue
		}
		dup := false
		for _, o := range out {
			if o == pr.n {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, pr.n)
		}
	}
	if len(out) > 1 {
		sort.SliceStable(out, func(i, j int) bool {
			x, y := out[i], out[j]
			if px, py := s.protected[x.pkg.Name], s.protected[y.pkg.Name]; px != py {
				return px
			}
			if (x.pkg.Name == a.name) != (y.pkg.Name == a.name) {
				return x.pkg.Name == a.name
			}
			if x.pkg.Essential != y.pkg.Essential {
				return x.pkg.Essential
			}
			if x.pkg.Important != y.pkg.Important {
				return x.pkg.Important
			}
			if rx, ry := priorityRank(x.pkg.Priority), priorityRank(y.pkg.Priority); rx != ry {
				return rx < ry
			}
			if fx, fy := minSeq(s.u, x), minSeq(s.u, y); fx != fy {
				return fx > fy
			}
			return x.pkg.Name < y.pkg.Name
		})
	}
	return out, nil
}

// minSeq is the position of the first stanza of n's name in the universe.
func minSeq(u *Universe, n *node) int {
	m := n.seq
	for _, o := range u.byName[n.pkg.Name] {
		if o.seq < m {
			m = o.seq
		}
	}
	return m
}

// whyNot explains why no alternative of g has an installable candidate.
func (s *solver) whyNot(g group) string {
	var reasons []string
	for i := range g {
		a := &g[i]
		c := s.candidate(a.name)
		provs, _ := s.u.providers(a.name)
		switch {
		case c == nil && len(provs) == 0:
			reasons = append(reasons, a.name+" is not in the mirror")
		case c != nil && !s.u.archOK(a, c):
			if a.qual == qualAny {
				reasons = append(reasons, a.name+" "+c.pkg.Version+" is not Multi-Arch: allowed")
			} else {
				reasons = append(reasons, "no "+a.name+" for architecture "+a.arch)
			}
		case c != nil && !a.versionOK(c.ver):
			reasons = append(reasons, "the mirror has "+a.name+" "+c.pkg.Version)
		default:
			reasons = append(reasons, "no provider of "+a.name+" matches")
		}
	}
	if len(g) == 1 && reasons[0] == g[0].name+" is not in the mirror" {
		return "not in the mirror"
	}
	return strings.Join(reasons, "; ")
}

// reverseConflict finds a marked package whose Conflicts or Breaks match
// n and returns it with the relation. apt does not look at this direction
// when it marks n (its problem resolver deals with the result later); the
// resolver treats n as not installable instead.
func (s *solver) reverseConflict(n *node) (owner *node, field, rel string) {
	for _, ne := range s.neg[n.pkg.Name] {
		if ne.owner != n && s.u.archOK(&ne.a, n) && ne.a.versionOK(n.ver) {
			return ne.owner, ne.field, ne.a.text
		}
	}
	for _, p := range n.provides {
		for _, ne := range s.neg[p.name] {
			if ne.owner != n && s.u.provideOK(&ne.a, n, p) {
				return ne.owner, ne.field, ne.a.text
			}
		}
	}
	return nil, "", ""
}

// matchNegatives returns the marked packages other than self that match
// the Conflicts/Breaks alternative a.
func (s *solver) matchNegatives(a *alt, self *node) []*node {
	var out []*node
	if o := s.sel[a.name]; o != nil && o != self && s.u.archOK(a, o) && a.versionOK(o.ver) {
		out = append(out, o)
	}
	for _, pr := range s.prov[a.name] {
		if pr.n != self && s.u.provideOK(a, pr.n, pr.p) && (len(out) == 0 || out[0] != pr.n) {
			out = append(out, pr.n)
		}
	}
	return out
}

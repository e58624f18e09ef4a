package resolve

import (
	"fmt"
	"sort"
	"sync"

	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"
)

// Universe is the set of binary packages the resolver may choose from, for
// one native architecture: what the merged Packages indices of one or more
// suites hold. It may contain several versions of a name; the highest is
// the candidate unless a request pins another. A Universe is read-only once
// built and safe for concurrent use.
type Universe struct {
	arch    string
	native  *dependency.Arch
	nodes   []*node            // every accepted stanza, in input order
	byName  map[string][]*node // versions of a name, highest first
	skipped int

	provOnce sync.Once
	provErr  error
	provIdx  map[string][]provider // virtual name -> every version providing it

	baseOnce  sync.Once
	essential []string // names whose candidate is Essential: yes
	required  []string // ... or Priority: required
}

// node is a Package with its parsed version and lazily parsed relations.
type node struct {
	pkg *Package
	ver version.Version
	seq int // position in the universe, for deterministic tie-breaks

	relOnce sync.Once
	relErr  error
	pre     []group // Pre-Depends
	dep     []group // Depends
	rec     []group // Recommends
	sug     []group // Suggests
	con     []group // Conflicts
	brk     []group // Breaks

	provides []provide // set while the provides index is built
}

// provider is one Provides entry of one package version.
type provider struct {
	n *node
	p provide
}

// NewUniverse builds a universe for the native architecture arch (as dpkg
// names it, e.g. "amd64") from Packages stanzas. Stanzas of other
// architectures are skipped (see [Universe.Skipped]); a name and version
// given twice (the same package in two suites) is kept once, the first
// time it appears. Only versions are parsed here; relation fields are parsed
// when first needed.
func NewUniverse(arch string, pkgs []Package) (*Universe, error) {
	native, err := dependency.ParseArch(arch)
	if err != nil {
		return nil, fmt.Errorf("resolve: architecture %q: %w", arch, err)
	}
	u := &Universe{
		arch:   arch,
		native: native,
		nodes:  make([]*node, 0, len(pkgs)),
		byName: make(map[string][]*node, len(pkgs)),
	}
	for i := range pkgs {
		p := &pkgs[i]
		if p.Architecture != arch && p.Architecture != "all" {
			u.skipped++
			continue
		}
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("resolve: stanza %d: Package and Version are required", i)
		}
		v, err := version.Parse(p.Version)
		if err != nil {
			return nil, fmt.Errorf("resolve: %s: version %q: %w", p.Name, p.Version, err)
		}
		dup := false
		for _, o := range u.byName[p.Name] {
			if o.pkg.Version == p.Version {
				dup = true
				break
			}
		}
		if dup {
			u.skipped++
			continue
		}
		cp := *p
		n := &node{pkg: &cp, ver: v, seq: len(u.nodes)}
		u.nodes = append(u.nodes, n)
		u.byName[p.Name] = append(u.byName[p.Name], n)
	}
	for _, vs := range u.byName {
		if len(vs) > 1 {
			sort.SliceStable(vs, func(i, j int) bool { return version.Compare(vs[i].ver, vs[j].ver) > 0 })
		}
	}
	return u, nil
}

// Arch returns the native architecture.
func (u *Universe) Arch() string { return u.arch }

// Len returns the number of package versions in the universe.
func (u *Universe) Len() int { return len(u.nodes) }

// Skipped returns how many stanzas NewUniverse left out: other
// architectures and duplicates.
func (u *Universe) Skipped() int { return u.skipped }

// Versions returns every version of name in the universe, highest first.
func (u *Universe) Versions(name string) []*Package {
	vs := u.byName[name]
	out := make([]*Package, len(vs))
	for i, n := range vs {
		out[i] = n.pkg
	}
	return out
}

// Candidate returns the version of name apt would install when nothing pins
// it: the highest. It returns nil when name is not a real package.
func (u *Universe) Candidate(name string) *Package {
	if vs := u.byName[name]; len(vs) > 0 {
		return vs[0].pkg
	}
	return nil
}

// Essential returns the sorted names whose candidate is Essential: yes.
func (u *Universe) Essential() []string {
	u.baseSets()
	return append([]string(nil), u.essential...)
}

// Required returns the sorted names whose candidate is Essential: yes or
// Priority: required (mmdebstrap's minbase variant).
func (u *Universe) Required() []string {
	u.baseSets()
	return append([]string(nil), u.required...)
}

// baseSets computes the Essential and Required name lists once.
func (u *Universe) baseSets() {
	u.baseOnce.Do(func() {
		for name, vs := range u.byName {
			p := vs[0].pkg
			if p.Essential {
				u.essential = append(u.essential, name)
			}
			if p.Essential || p.Priority == "required" {
				u.required = append(u.required, name)
			}
		}
		sort.Strings(u.essential)
		sort.Strings(u.required)
	})
}

// relations parses the node's relation fields once.
func (n *node) relations(native *dependency.Arch) error {
	n.relOnce.Do(func() {
		p := n.pkg
		var err error
		if n.pre, err = parseGroups("Pre-Depends", p.PreDepends, native); err != nil {
			n.relErr = err
			return
		}
		if n.dep, err = parseGroups("Depends", p.Depends, native); err != nil {
			n.relErr = err
			return
		}
		if n.rec, err = parseGroups("Recommends", p.Recommends, native); err != nil {
			n.relErr = err
			return
		}
		// Suggests only keep packages in the set (see sweep); a malformed
		// one is ignored rather than failing the resolution.
		n.sug, _ = parseGroups("Suggests", p.Suggests, native)
		if n.con, err = parseGroups("Conflicts", p.Conflicts, native); err != nil {
			n.relErr = err
			return
		}
		if n.brk, err = parseGroups("Breaks", p.Breaks, native); err != nil {
			n.relErr = err
			return
		}
	})
	if n.relErr != nil {
		return fmt.Errorf("%s %s: %w", n.pkg.Name, n.pkg.Version, n.relErr)
	}
	return nil
}

// providers returns every package version that Provides name, building the
// index on first use.
func (u *Universe) providers(name string) ([]provider, error) {
	u.provOnce.Do(func() {
		idx := make(map[string][]provider)
		for _, n := range u.nodes {
			if n.pkg.Provides == "" {
				continue
			}
			ps, err := parseProvides(n.pkg.Provides)
			if err != nil {
				u.provErr = fmt.Errorf("%s %s: %w", n.pkg.Name, n.pkg.Version, err)
				return
			}
			n.provides = ps
			for _, p := range ps {
				idx[p.name] = append(idx[p.name], provider{n: n, p: p})
			}
		}
		u.provIdx = idx
	})
	return u.provIdx[name], u.provErr
}

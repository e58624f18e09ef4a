package resolve

import "sort"

// Result is a resolved package set.
type Result struct {
	// Packages is the set to install, sorted by name.
	Packages []*Package
	// Base is the base set the request was resolved on, sorted by name.
	Base []*Package

	nodes []*node // parallel to Packages
	s     *solver
}

func newResult(s *solver, base []*Package) *Result {
	r := &Result{Base: base, s: s}
	for _, n := range s.sel {
		r.nodes = append(r.nodes, n)
	}
	sort.Slice(r.nodes, func(i, j int) bool { return r.nodes[i].pkg.Name < r.nodes[j].pkg.Name })
	for _, n := range r.nodes {
		r.Packages = append(r.Packages, n.pkg)
	}
	return r
}

// Names returns the names of the packages, sorted.
func (r *Result) Names() []string {
	out := make([]string, len(r.Packages))
	for i, p := range r.Packages {
		out[i] = p.Name
	}
	return out
}

// Lookup returns the selected package called name, or nil.
func (r *Result) Lookup(name string) *Package {
	if n := r.s.sel[name]; n != nil {
		return n.pkg
	}
	return nil
}

// Why returns the chain of relations that brought name into the set,
// starting with a base or requested package, or nil if name is not in it.
func (r *Result) Why(name string) []string {
	if w, ok := r.s.why[name]; ok {
		return append([]string(nil), w...)
	}
	return nil
}

// DependsOn returns the selected packages that satisfy p's Pre-Depends
// (pre) and Depends (dep) groups, sorted by name, without p itself. For
// each group it names the first alternative that the set satisfies.
func (r *Result) DependsOn(p *Package) (pre, dep []*Package) {
	n := r.s.sel[p.Name]
	if n == nil || n.pkg != p {
		return nil, nil
	}
	pn, dn := r.edges(n)
	for _, x := range pn {
		pre = append(pre, x.pkg)
	}
	for _, x := range dn {
		dep = append(dep, x.pkg)
	}
	return pre, dep
}

// edges returns the satisfiers of n's Pre-Depends and Depends groups,
// deduplicated and sorted by name.
func (r *Result) edges(n *node) (pre, dep []*node) {
	collect := func(gs []group) []*node {
		seen := map[*node]bool{}
		var out []*node
		for _, g := range gs {
			if d := r.s.satisfier(g); d != nil && d != n && !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].pkg.Name < out[j].pkg.Name })
		return out
	}
	return collect(n.pre), collect(n.dep)
}

package update

import (
	"sort"
	"strings"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect"
)

// cmdOf is the command to compose the image's successor with: nil for
// compose's default, else the image's own.
func cmdOf(im *inspect.Image) []string {
	if len(im.Cmd) == 1 && im.Cmd[0] == "/bin/bash" {
		return nil
	}
	return im.Cmd
}

// InferRequest guesses the request an image was composed from: its
// packages that no other package of the image depends on (Depends or
// Pre-Depends, any alternative, or through Provides) and that are not
// part of compose's base (Essential: yes and usr-is-merged) — what
// `apt-mark showmanual` would list after `apt-get install` of the
// request. meta gives each package's entry (its dependencies); a package
// meta does not know is kept in the request.
func InferRequest(im *inspect.Image, meta func(p *inspect.Package) *index.Entry) []string {
	type node struct {
		p *inspect.Package
		e *index.Entry
	}
	nodes := make([]node, len(im.Packages))
	provides := map[string][]int{} // name or provided name → nodes
	for i := range im.Packages {
		p := &im.Packages[i]
		nodes[i] = node{p, meta(p)}
		provides[p.Name] = append(provides[p.Name], i)
		if e := nodes[i].e; e != nil {
			for _, v := range relationNames(e.Provides) {
				provides[v] = append(provides[v], i)
			}
		}
	}
	needed := make([]bool, len(nodes))
	for i, n := range nodes {
		if n.e == nil {
			continue
		}
		for _, name := range relationNames(n.e.Depends + "," + n.e.PreDepends) {
			for _, j := range provides[name] {
				if j != i {
					needed[j] = true
				}
			}
		}
	}
	var out []string
	for i, n := range nodes {
		if needed[i] || n.p.Name == "usr-is-merged" || (n.e != nil && n.e.Essential) {
			continue
		}
		out = append(out, n.p.Name)
	}
	sort.Strings(out)
	return out
}

// relationNames returns the package names a relationship field mentions
// (every alternative), without versions and architecture qualifiers.
func relationNames(field string) []string {
	var out []string
	for _, dep := range strings.Split(field, ",") {
		for _, alt := range strings.Split(dep, "|") {
			alt = strings.TrimSpace(alt)
			if i := strings.IndexAny(alt, " (:["); i >= 0 {
				alt = alt[:i]
			}
			if alt != "" {
				out = append(out, alt)
			}
		}
	}
	return out
}

// resolveSame reports whether install resolves, over idx, to exactly the
// image's packages; it returns the names the resolution misses.
func resolveSame(idx *index.Index, install []string, recommends bool, im *inspect.Image, arch string) (missing []string, extra []string, err error) {
	es, err := idx.Resolve(resolveRequest(install, recommends), arch)
	if err != nil {
		return nil, nil, err
	}
	got := map[string]string{}
	for _, e := range es {
		got[e.Package] = e.Version
	}
	want := map[string]bool{}
	for _, p := range im.Packages {
		want[p.Name] = true
		if v, ok := got[p.Name]; !ok || v != p.Version {
			missing = append(missing, p.Name)
		}
	}
	for _, e := range es {
		if !want[e.Package] {
			extra = append(extra, e.Package+"="+e.Version)
		}
	}
	return missing, extra, nil
}

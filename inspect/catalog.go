package inspect

import (
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/store"
)

// Catalog knows the packages of a layer store: what the annotations of its
// package images (listed in the store's index.json) say about each
// (name, version, architecture). Read uses it to complete packages whose
// layer annotations leave fields out: a group layer names its members
// only as NAME=VERSION, and compose's own package layer annotations carry
// no source. It reads index.json only, never a blob.
type Catalog struct {
	byNV map[string][]catalogEntry // NAME=VERSION
}

type catalogEntry struct {
	arch, source, sourceVersion, debSHA256 string
}

// NewCatalog reads the package images listed in st's index.json.
func NewCatalog(st *store.Store) (*Catalog, error) {
	idx, err := st.Index()
	if err != nil {
		return nil, err
	}
	c := &Catalog{byNV: map[string][]catalogEntry{}}
	for _, d := range idx.Manifests {
		a := d.Annotations
		if a[annPackage] == "" {
			continue
		}
		e := catalogEntry{arch: a[annArchitecture], debSHA256: a[annDebSHA256]}
		e.source, e.sourceVersion = splitSource(a[annSource])
		nv := a[annPackage] + "=" + a[annVersion]
		c.byNV[nv] = append(c.byNV[nv], e)
	}
	return c, nil
}

// IndexCatalog is the catalog of a mirror index's packages.
func IndexCatalog(ix *mirror.Index) *Catalog {
	c := &Catalog{byNV: map[string][]catalogEntry{}}
	for _, e := range ix.Packages {
		ce := catalogEntry{arch: e.Architecture, debSHA256: e.DebSHA256}
		ce.source, ce.sourceVersion = splitSource(e.Source)
		if ce.source == "" {
			ce.source = e.Package
		}
		nv := e.Package + "=" + e.Version
		c.byNV[nv] = append(c.byNV[nv], ce)
	}
	return c
}

// Len is the number of (name, version) pairs the catalog knows.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.byNV)
}

// fill completes p: its architecture when the image does not say (the
// image's native one, else all, else the only one the store knows), then
// its source and .deb SHA256 when unknown. A nil catalog fills nothing.
func (c *Catalog) fill(p *Package, native string) {
	if c == nil {
		return
	}
	es := c.byNV[p.Name+"="+p.Version]
	if len(es) == 0 {
		return
	}
	pick := -1
	for _, want := range []string{p.Architecture, native, "all"} {
		if want == "" || pick >= 0 {
			continue
		}
		for i, e := range es {
			if e.arch == want {
				pick = i
				break
			}
		}
	}
	if pick < 0 && p.Architecture == "" && len(es) == 1 {
		pick = 0
	}
	if pick < 0 {
		return
	}
	e := es[pick]
	if p.Architecture == "" {
		p.Architecture = e.arch
	}
	if p.Source == "" {
		p.Source, p.SourceVersion = e.source, e.sourceVersion
	}
	if p.DebSHA256 == "" {
		p.DebSHA256 = e.debSHA256
	}
}

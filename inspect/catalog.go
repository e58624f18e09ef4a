package inspect

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/imagespec"
)

// Catalog knows the packages of a layer store: what the annotations of its
// package images (listed in the store's index.json) say about each
// (name, version, architecture). Read uses it to complete packages whose
// layer annotations leave fields out: a group layer names its members
// only as NAME=VERSION, and compose's own package layer annotations carry
// no source. It reads index.json only, never a blob. The zero Catalog is
// empty; Add fills it from elsewhere (a mirror index's entries).
type Catalog struct {
	byNV map[string][]catalogEntry // NAME=VERSION
}

type catalogEntry struct {
	arch, source, sourceVersion, debSHA256 string
}

// Layout is an OCI image layout inspect reads: a *store.Store is one.
// inspect only reads it.
type Layout interface {
	// Dir is the layout's directory.
	Dir() string
	// Index is its index.json.
	Index() (*v1.IndexManifest, error)
}

// NewCatalog reads the package images listed in st's index.json.
func NewCatalog(st Layout) (*Catalog, error) {
	idx, err := st.Index()
	if err != nil {
		return nil, err
	}
	c := &Catalog{byNV: map[string][]catalogEntry{}}
	for _, d := range idx.Manifests {
		a := d.Annotations
		if a[imagespec.AnnotationPackage] == "" {
			continue
		}
		e := catalogEntry{arch: a[imagespec.AnnotationArchitecture], debSHA256: a[imagespec.AnnotationDebSHA256]}
		e.source, e.sourceVersion = splitSource(a[imagespec.AnnotationSource])
		nv := a[imagespec.AnnotationPackage] + "=" + a[imagespec.AnnotationVersion]
		c.byNV[nv] = append(c.byNV[nv], e)
	}
	return c, nil
}

// Add adds a package to the catalog: its name, version, architecture,
// Source field ("NAME" or "NAME (VERSION)"; "" is the package's own name)
// and .deb SHA256, as a mirror index entry gives them.
func (c *Catalog) Add(name, version, architecture, source, debSHA256 string) {
	if c.byNV == nil {
		c.byNV = map[string][]catalogEntry{}
	}
	e := catalogEntry{arch: architecture, debSHA256: debSHA256}
	e.source, e.sourceVersion = splitSource(source)
	if e.source == "" {
		e.source = name
	}
	nv := name + "=" + version
	c.byNV[nv] = append(c.byNV[nv], e)
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

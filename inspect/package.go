package inspect

import (
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Package is one Debian package of an image.
type Package struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture,omitempty"` // "" when the image does not say
	Source       string `json:"source,omitempty"`       // source package; "" when unknown
	// SourceVersion is the source package's version when it differs from
	// the binary's ("" otherwise or when unknown).
	SourceVersion string `json:"sourceVersion,omitempty"`
	// DebSHA256 is the SHA256 of the .deb the layer was made from, when
	// known.
	DebSHA256 string `json:"debSHA256,omitempty"`
	// Layer is the digest of the image layer that holds the package: its
	// own layer, or the group layer it was merged into.
	Layer v1.Hash `json:"layer"`
	// Group names the group layer holding the package ("" for a
	// package's own layer).
	Group string `json:"group,omitempty"`
}

// Key identifies a package in an image: name and architecture (a
// Multi-Arch: same library can be there once per architecture).
func (p *Package) Key() string {
	if p.Architecture == "" {
		return p.Name
	}
	return p.Name + ":" + p.Architecture
}

// SourceName is the source package's name: Source, or the binary's own
// name when the source is unknown or the same.
func (p *Package) SourceName() string {
	if p.Source != "" {
		return p.Source
	}
	return p.Name
}

// sortPackages sorts by name, then architecture, then version.
func sortPackages(ps []Package) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := &ps[i], &ps[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Architecture != b.Architecture {
			return a.Architecture < b.Architecture
		}
		return a.Version < b.Version
	})
}

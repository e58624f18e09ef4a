package inspect

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/imagespec"
)

// Layer is one layer of an image, as its manifest describes it.
type Layer struct {
	Digest    v1.Hash `json:"digest"`
	Size      int64   `json:"size"`
	MediaType string  `json:"mediaType"`
	Kind      string  `json:"kind"` // an imagespec.LayerKind…
	Group     string  `json:"group,omitempty"`
	// Packages are the packages the layer holds, in layer order.
	Packages []string `json:"packages,omitempty"` // NAME=VERSION
}

// Image is what inspect reads from one image: its identity, its layers
// and its packages.
type Image struct {
	// Ref is the reference the image was read through.
	Ref string `json:"ref"`
	// Digest is the manifest's digest, Config the config blob's.
	Digest v1.Hash `json:"digest"`
	Config v1.Hash `json:"config"`
	// ManifestSize and ConfigSize are the sizes of those blobs.
	ManifestSize int64 `json:"manifestSize"`
	ConfigSize   int64 `json:"configSize"`
	// OS, Architecture and Variant are the config's platform.
	OS           string    `json:"os,omitempty"`
	Architecture string    `json:"architecture,omitempty"`
	Variant      string    `json:"variant,omitempty"`
	Created      time.Time `json:"created"`
	// Composed is true when deb2fs compose made the image.
	Composed bool `json:"composed"`
	// Cmd is the config's Cmd.
	Cmd    []string          `json:"cmd,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Layers []Layer           `json:"layers"`
	// Packages are sorted by name and architecture.
	Packages []Package `json:"packages"`
	// Hooks are the firstboot hooks the image carries
	// (imagespec.LabelHooks): what each container generates for itself at
	// its first start.
	Hooks []string `json:"firstbootHooks,omitempty"`
	// Warnings are inconsistencies found between the annotations and the
	// config's package label.
	Warnings []string `json:"warnings,omitempty"`
}

// Read reads an image's packages from its manifest and config: it calls
// only img.Digest, img.RawManifest and img.RawConfigFile, never a layer
// method, so no layer blob is read. cat, if not nil, fills in what the
// annotations leave out (a group member's architecture and source).
func Read(ref string, img v1.Image, cat *Catalog) (*Image, error) {
	rawM, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", ref, err)
	}
	return readParts(ref, rawM, func(*v1.Manifest) ([]byte, error) { return img.RawConfigFile() }, cat)
}

// fromManifest builds the Image from a parsed manifest and config.
func fromManifest(ref string, digest v1.Hash, msize int64, m *v1.Manifest, cfg *v1.ConfigFile, csize int64, cat *Catalog) *Image {
	im := &Image{
		Ref: ref, Digest: digest, ManifestSize: msize, Config: m.Config.Digest, ConfigSize: csize,
		OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, Created: cfg.Created.Time,
		Cmd: cfg.Config.Cmd, Labels: cfg.Config.Labels,
	}
	_, im.Composed = cfg.Config.Labels[imagespec.LabelCompose]
	im.Hooks = splitList(cfg.Config.Labels[imagespec.LabelHooks])
	native := debianArch(cfg.Architecture, cfg.Variant)
	seen := map[string]bool{} // NAME=VERSION found in layers
	configure := len(m.Layers) - 1
	for configure > 0 && m.Layers[configure].Annotations[imagespec.AnnotationLayerKind] != "" {
		configure--
	}
	for i, d := range m.Layers {
		l := Layer{Digest: d.Digest, Size: d.Size, MediaType: string(d.MediaType), Kind: imagespec.LayerKindOther}
		a := d.Annotations
		switch {
		case a[imagespec.AnnotationPackage] != "":
			l.Kind = imagespec.LayerKindPackage
			p := Package{
				Name: a[imagespec.AnnotationPackage], Version: a[imagespec.AnnotationVersion], Architecture: a[imagespec.AnnotationArchitecture],
				DebSHA256: a[imagespec.AnnotationDebSHA256], Layer: d.Digest,
			}
			p.Source, p.SourceVersion = splitSource(a[imagespec.AnnotationSource])
			cat.fill(&p, native)
			l.Packages = []string{p.Name + "=" + p.Version}
			im.Packages = append(im.Packages, p)
			seen[p.Name+"="+p.Version] = true
		case a[imagespec.AnnotationGroupPackages] != "":
			l.Kind, l.Group = imagespec.LayerKindGroup, a[imagespec.AnnotationGroup]
			detail := groupDetail(a[imagespec.AnnotationGroupMembers])
			for _, nv := range splitList(a[imagespec.AnnotationGroupPackages]) {
				name, version, _ := strings.Cut(nv, "=")
				p := Package{Name: name, Version: version, Layer: d.Digest, Group: l.Group}
				if m, ok := detail[nv]; ok {
					p.Architecture, p.DebSHA256 = m.Architecture, m.DebSHA256
					p.Source, p.SourceVersion = splitSource(m.Source)
				}
				cat.fill(&p, native)
				l.Packages = append(l.Packages, nv)
				im.Packages = append(im.Packages, p)
				seen[nv] = true
			}
		case a[imagespec.AnnotationLayerKind] == imagespec.LayerKindFiles:
			l.Kind = imagespec.LayerKindFiles
		case im.Composed && i == 0:
			l.Kind = imagespec.LayerKindBase
		case im.Composed && i == configure:
			l.Kind = imagespec.LayerKindConfigure
		}
		im.Layers = append(im.Layers, l)
	}
	if label, ok := cfg.Config.Labels[imagespec.LabelPackages]; ok {
		inLabel := map[string]bool{}
		for _, nv := range splitList(label) {
			inLabel[nv] = true
			if !seen[nv] {
				im.Warnings = append(im.Warnings, fmt.Sprintf("%s is in the %s label but in no layer's annotations", nv, imagespec.LabelPackages))
			}
		}
		for nv := range seen {
			if !inLabel[nv] {
				im.Warnings = append(im.Warnings, fmt.Sprintf("%s is in a layer's annotations but not in the %s label", nv, imagespec.LabelPackages))
			}
		}
	}
	sortPackages(im.Packages)
	return im
}

// groupMember is one entry of a group layer's
// imagespec.AnnotationGroupMembers.
type groupMember struct {
	Package      string `json:"package"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	Source       string `json:"source"`
	DebSHA256    string `json:"debSHA256"`
}

// groupDetail parses imagespec.AnnotationGroupMembers into a map by
// NAME=VERSION; an absent or malformed annotation gives an empty map.
func groupDetail(s string) map[string]groupMember {
	out := map[string]groupMember{}
	if s == "" {
		return out
	}
	var ms []groupMember
	if json.Unmarshal([]byte(s), &ms) != nil {
		return out
	}
	for _, m := range ms {
		out[m.Package+"="+m.Version] = m
	}
	return out
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// splitSource splits a Source field, "NAME" or "NAME (VERSION)".
func splitSource(s string) (name, version string) {
	name, rest, ok := strings.Cut(strings.TrimSpace(s), " ")
	if ok {
		version = strings.Trim(strings.TrimSpace(rest), "()")
	}
	return name, version
}

// DebianArchitecture is the Debian architecture of the image's platform.
func (im *Image) DebianArchitecture() string { return debianArch(im.Architecture, im.Variant) }

// debianArch maps an OCI platform to a Debian architecture.
func debianArch(arch, variant string) string {
	switch arch {
	case "386":
		return "i386"
	case "arm":
		if variant == "v5" {
			return "armel"
		}
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	case "mips64le":
		return "mips64el"
	}
	return arch
}

// Find returns the image's packages named name (one per architecture).
func (im *Image) Find(name string) []Package {
	var out []Package
	for _, p := range im.Packages {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

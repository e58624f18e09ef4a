package inspect

import (
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Diff is the package-level difference between two images.
type Diff struct {
	Added   []Package `json:"added"`   // in the new image only
	Removed []Package `json:"removed"` // in the old image only
	Changed []Change  `json:"changed"` // in both, another version
	// NewLayers are the new image's layers the old one does not have,
	// and NewBytes their size plus the new config's and manifest's: what
	// pushing the new image where the old one is would upload.
	NewLayers []Layer `json:"newLayers"`
	NewBytes  int64   `json:"newBytes"`
	// Unchanged counts packages with the same version in both.
	Unchanged int `json:"unchanged"`
}

// Change is a package whose version differs.
type Change struct {
	Name         string  `json:"name"`
	Architecture string  `json:"architecture,omitempty"`
	Old          Package `json:"old"`
	New          Package `json:"new"`
}

// Empty reports whether the images hold the same packages.
func (d *Diff) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// Compare compares the packages of two images, matching them by name and
// architecture (an unknown architecture matches by name alone).
func Compare(old, new *Image) *Diff {
	d := &Diff{}
	oldBy := map[string]Package{}
	for _, p := range old.Packages {
		oldBy[p.Key()] = p
	}
	// A package whose architecture is unknown on one side (or changed to
	// or from all) matches by name when there is one of that name.
	byName := func(ps []Package) map[string][]Package {
		m := map[string][]Package{}
		for _, p := range ps {
			m[p.Name] = append(m[p.Name], p)
		}
		return m
	}
	oldNames := byName(old.Packages)
	matched := map[string]bool{} // old keys
	for _, p := range new.Packages {
		o, ok := oldBy[p.Key()]
		if !ok && len(oldNames[p.Name]) == 1 {
			o, ok = oldNames[p.Name][0], true
		}
		if ok && matched[o.Key()] {
			ok = false
		}
		switch {
		case !ok:
			d.Added = append(d.Added, p)
		case o.Version != p.Version:
			matched[o.Key()] = true
			d.Changed = append(d.Changed, Change{Name: p.Name, Architecture: p.Architecture, Old: o, New: p})
		default:
			matched[o.Key()] = true
			d.Unchanged++
		}
	}
	for _, p := range old.Packages {
		if !matched[p.Key()] {
			d.Removed = append(d.Removed, p)
		}
	}
	sort.SliceStable(d.Changed, func(i, j int) bool { return d.Changed[i].Name < d.Changed[j].Name })
	have := map[v1.Hash]bool{old.Config: true, old.Digest: true}
	for _, l := range old.Layers {
		have[l.Digest] = true
	}
	for _, l := range new.Layers {
		if !have[l.Digest] {
			have[l.Digest] = true
			d.NewLayers = append(d.NewLayers, l)
			d.NewBytes += l.Size
		}
	}
	if !have[new.Config] {
		d.NewBytes += new.ConfigSize
	}
	if new.Digest != old.Digest {
		d.NewBytes += new.ManifestSize
	}
	return d
}

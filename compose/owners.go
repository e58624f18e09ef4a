package compose

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/deb2fs/deb2fs/index"
	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"
)

// ownership follows, as layers are applied in order, which package dpkg
// would leave owning each non-directory path that several packages ship.
// dpkg lets a package's file replace another package's only when one
// declares Replaces on the other (in either unpack order), and the
// replacing package's file is the one that stays; the replaced package's
// file list loses the path (its md5sums keep it). Layers stack in their
// canonical order instead, so the topmost layer's file is what the union
// shows: a takeover records where that differs from dpkg, and compose
// fixes it in the configure layer (applyTakeovers).
type ownership struct {
	// replaces reports whether package a declares Replaces on package b
	// (its version included); nil allows every overwrite.
	replaces func(a, b string) bool
	owner    map[string]string   // path -> the package whose file dpkg keeps
	top      map[string]string   // path -> the last layer that wrote it
	losers   map[string][]string // path -> packages whose file dpkg drops
}

func newOwnership(replaces func(a, b string) bool) *ownership {
	return &ownership{replaces: replaces, owner: map[string]string{}, top: map[string]string{}, losers: map[string][]string{}}
}

// add records that layer pkg writes the non-directory path rel. Two
// packages shipping one path with no Replaces either way is an
// *OverlapError, as dpkg refuses to unpack the second.
func (o *ownership) add(rel, pkg string) error {
	prev, ok := o.owner[rel]
	o.top[rel] = pkg
	switch {
	case !ok || prev == pkg:
		o.owner[rel] = pkg
	case o.replaces == nil || o.replaces(pkg, prev):
		o.owner[rel] = pkg
		o.losers[rel] = append(o.losers[rel], prev)
	case o.replaces(prev, pkg):
		o.losers[rel] = append(o.losers[rel], pkg)
	default:
		return &OverlapError{Path: rel, First: prev, Second: pkg}
	}
	return nil
}

// forget drops what is known of rel (a whiteout or a directory replaced
// it).
func (o *ownership) forget(rel string) {
	delete(o.owner, rel)
	delete(o.top, rel)
	delete(o.losers, rel)
}

// takeover is a path several packages ship, resolved as dpkg would: the
// file of Owner stays (Restore: the union shows another layer's, so the
// configure layer carries Owner's), and the file lists of Losers lose it.
type takeover struct {
	Path    string
	Owner   string
	Restore bool
	Losers  []string
}

// takeovers lists every path more than one package ships, by path.
func (o *ownership) takeovers() []takeover {
	var out []takeover
	for rel, losers := range o.losers {
		out = append(out, takeover{Path: rel, Owner: o.owner[rel], Restore: o.top[rel] != o.owner[rel], Losers: losers})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// replaces reports whether package a of the set declares Replaces on
// package b of the set, b's version satisfying the relation's version
// (an architecture qualifier is not checked: the set has one
// architecture).
func (c *composer) replaces(a, b string) bool {
	ea, eb := c.entry(a), c.entry(b)
	if ea == nil || eb == nil || ea.Replaces == "" {
		return false
	}
	rels, err := dependency.Parse(ea.Replaces)
	if err != nil {
		return false
	}
	v, err := version.Parse(eb.Version)
	if err != nil {
		return false
	}
	for _, rel := range rels.Relations {
		for _, p := range rel.Possibilities {
			if p.Name == b && (p.Version == nil || p.Version.SatisfiedBy(v)) {
				return true
			}
		}
	}
	return false
}

// entry returns the set's package of that name, or nil.
func (c *composer) entry(name string) *index.Entry {
	for i := range c.pkgs {
		if c.pkgs[i].Package == name {
			return &c.pkgs[i]
		}
	}
	return nil
}

// applyTakeovers makes a freshly assembled root what dpkg would have
// unpacked where packages ship one path: the owner's file where the union
// shows another layer's (taken from the owner's layer), and the path
// removed from the other packages' file lists.
func (c *composer) applyTakeovers(root string, ts []takeover) error {
	restore := map[string]map[string]bool{} // owner -> paths
	drop := map[string]map[string]bool{}    // loser -> paths
	for _, t := range ts {
		if t.Restore {
			if restore[t.Owner] == nil {
				restore[t.Owner] = map[string]bool{}
			}
			restore[t.Owner][t.Path] = true
		}
		for _, l := range t.Losers {
			if drop[l] == nil {
				drop[l] = map[string]bool{}
			}
			drop[l]["/"+t.Path] = true
		}
	}
	for _, owner := range slices.Sorted(maps.Keys(restore)) {
		e := c.entry(owner)
		if e == nil {
			return fmt.Errorf("%s: a path it owns is not in its layer", owner)
		}
		x := newExtractor(root, c.ids)
		x.layer, x.only = owner, restore[owner]
		if err := x.apply(c.st.Layout().BlobPath(e.Layer.Digest), e.Layer.MediaType, e.Layer.Digest); err != nil {
			return fmt.Errorf("%s %s: restoring its files: %w", e.Package, e.Version, err)
		}
		c.logf("%s replaces %s: its file kept", owner, strings.Join(slices.Sorted(maps.Keys(restore[owner])), ", "))
	}
	for _, loser := range slices.Sorted(maps.Keys(drop)) {
		e := c.entry(loser)
		if e == nil {
			continue // the base layer has no file list
		}
		list := filepath.Join(root, "var/lib/dpkg/info", infoName(e)+".list")
		data, err := os.ReadFile(list)
		if err != nil {
			return fmt.Errorf("%s: %w", loser, err)
		}
		var kept []string
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if !drop[loser][strings.TrimSuffix(line, "\n")] {
				kept = append(kept, line)
			}
		}
		if err := os.WriteFile(list, []byte(strings.Join(kept, "")), 0o644); err != nil {
			return err
		}
	}
	return nil
}

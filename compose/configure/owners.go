package configure

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/index"
	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"
)

// replaces reports whether package a of the set declares Replaces on
// package b of the set, b's version satisfying the relation's version
// (an architecture qualifier is not checked: the set has one
// architecture).
func (c *Builder) replaces(a, b string) bool {
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
func (c *Builder) entry(name string) *index.Entry {
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
func (c *Builder) applyTakeovers(root string, ts []rootfs.Takeover) error {
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
		x := rootfs.NewExtractor(root, c.ids)
		x.Layer, x.Only = owner, restore[owner]
		if err := x.Apply(c.st.Layout().BlobPath(e.Layer.Digest), e.Layer.MediaType, e.Layer.Digest); err != nil {
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

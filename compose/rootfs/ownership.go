package rootfs

import "sort"

// Ownership follows, as layers are applied in order, which package dpkg
// would leave owning each non-directory path that several packages ship.
// dpkg lets a package's file replace another package's only when one
// declares Replaces on the other (in either unpack order), and the
// replacing package's file is the one that stays; the replaced package's
// file list loses the path (its md5sums keep it). Layers stack in their
// canonical order instead, so the topmost layer's file is what the union
// shows: a takeover records where that differs from dpkg, and compose
// fixes it in the configure layer (applyTakeovers).
type Ownership struct {
	// replaces reports whether package a declares Replaces on package b
	// (its version included); nil allows every overwrite.
	replaces func(a, b string) bool
	owner    map[string]string   // path -> the package whose file dpkg keeps
	top      map[string]string   // path -> the last layer that wrote it
	losers   map[string][]string // path -> packages whose file dpkg drops
}

func NewOwnership(replaces func(a, b string) bool) *Ownership {
	return &Ownership{replaces: replaces, owner: map[string]string{}, top: map[string]string{}, losers: map[string][]string{}}
}

// Add records that layer pkg writes the non-directory path rel. Two
// packages shipping one path with no Replaces either way is an
// *OverlapError, as dpkg refuses to unpack the second.
func (o *Ownership) Add(rel, pkg string) error {
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

// Forget drops what is known of rel (a whiteout or a directory replaced
// it).
func (o *Ownership) Forget(rel string) {
	delete(o.owner, rel)
	delete(o.top, rel)
	delete(o.losers, rel)
}

// Takeover is a path several packages ship, resolved as dpkg would: the
// file of Owner stays (Restore: the union shows another layer's, so the
// configure layer carries Owner's), and the file lists of Losers lose it.
type Takeover struct {
	Path    string
	Owner   string
	Restore bool
	Losers  []string
}

// Takeovers lists every path more than one package ships, by path.
func (o *Ownership) Takeovers() []Takeover {
	var out []Takeover
	for rel, losers := range o.losers {
		out = append(out, Takeover{Path: rel, Owner: o.owner[rel], Restore: o.top[rel] != o.owner[rel], Losers: losers})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
